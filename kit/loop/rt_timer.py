"""A POSIX per-process timer that sends a real-time signal to one thread, through ctypes (Linux).

    signum = free_realtime_signal(is_kits)          # SIGRTMAX, or the highest one still free; or None
    timer = PosixTimer.create(signum, thread_id=threading.get_native_id())   # OSError on failure
    timer.start(every_s=0.005)                       # signum every 5 ms, CLOCK_MONOTONIC
    timer.interval_s()                               # 0.005 while it runs
    timer.delete()

Why: SIGALRM and ITIMER_REAL are one per process, and pytest-timeout's default ``signal`` method
(``signal.signal(SIGALRM, ...)``; ``setitimer(ITIMER_REAL, timeout)``) or an app's
``signal.alarm`` hold them. ``timer_create(2)`` makes as many timers as wanted, each with its own
signal; with ``SIGEV_THREAD_ID`` the signal goes to the one thread named (``sigevent(7)``), so a
sleep or a blocking call of that thread is interrupted exactly as SIGALRM interrupts it.
The real-time signals ``SIGRTMIN``..``SIGRTMAX`` are free for applications (``signal(7)``: glibc
keeps the first two or three for its threads and moves ``SIGRTMIN`` above them; Python's
``signal.SIGRTMIN`` is that runtime value, 34 on glibc). ``free_realtime_signal`` takes none that
has a handler, from Python (``signal.getsignal``) or from C (``sigaction(2)``), or is blocked.
A timer has at most one signal queued at a time; expiries meanwhile are counted as overruns
(``timer_getoverrun(2)``), so a thread busy in a C call is never flooded with real-time signals.

Facts the ctypes declarations rely on, for 64-bit Linux (x86_64, aarch64; anything else: no timer):

- ``timer_create``, ``timer_settime``, ``timer_gettime``, ``timer_delete`` are in libc from glibc
  2.34 on, in ``librt.so.1`` before (glibc 2.34 NEWS; musl has them in libc).
- ``struct sigevent`` is 64 bytes (``SIGEV_MAX_SIZE``): ``sigev_value`` (a union of int and
  pointer) at offset 0, ``int sigev_signo`` at 8, ``int sigev_notify`` at 12, then a union padded
  to 48 bytes whose ``int _tid`` (``sigev_notify_thread_id``) is at 16. Sources: the kernel's
  ``include/uapi/asm-generic/siginfo.h`` (``__ARCH_SIGEV_PREAMBLE_SIZE`` = 2 ints + sigval_t;
  neither arch overrides it) and glibc's ``bits/types/sigevent_t.h`` (``__SIGEV_PAD_SIZE`` =
  64 / 4 - 4 on 64-bit). ``SIGEV_THREAD_ID`` = 4 (both headers; Linux-specific).
- ``struct itimerspec`` is two ``struct timespec`` (``it_interval``, then ``it_value``), each a
  64-bit ``tv_sec`` and a ``long tv_nsec`` (``timer_settime(2)``, ``time.h``).
- glibc's ``struct sigaction`` (``bits/sigaction.h``) begins with the handler pointer on both
  arches (152 bytes in all); 0 is ``SIG_DFL``, 1 is ``SIG_IGN``.

Errors: ``PosixTimer.create``/``start`` raise ``OSError`` with the C ``errno`` (``EAGAIN``: the
process hit its timer limit, ``RLIMIT_SIGPENDING``; ``EINVAL``: a bad signal or thread).
``posix_timers()`` is None where the functions or the layouts above are not known to hold.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import signal
import sys
import time
from collections.abc import Callable

SIGEV_THREAD_ID = 4
_ARCHES = ("x86_64", "aarch64")


class _Sigevent(ctypes.Structure):
    _fields_ = [("sigev_value", ctypes.c_void_p), ("sigev_signo", ctypes.c_int),
                ("sigev_notify", ctypes.c_int), ("sigev_notify_thread_id", ctypes.c_int),
                ("_pad", ctypes.c_int * 11)]


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_int64), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


@functools.cache
def posix_timers() -> ctypes.CDLL | None:
    """The C library that has ``timer_create`` & co., with their argument types set; None where
    the module docstring's facts are not known to hold (not 64-bit Linux on x86_64/aarch64)."""
    if (sys.platform != "linux" or platform.machine() not in _ARCHES
            or ctypes.sizeof(_Sigevent) != 64 or ctypes.sizeof(ctypes.c_void_p) != 8):
        return None
    for name in (None, "librt.so.1"):  # glibc >= 2.34 (and musl): libc itself; older: librt
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
        if not hasattr(lib, "timer_create"):
            continue
        timer_p = ctypes.c_void_p  # timer_t is void * on glibc and musl
        lib.timer_create.argtypes = [ctypes.c_int, ctypes.POINTER(_Sigevent), ctypes.POINTER(timer_p)]
        lib.timer_settime.argtypes = [timer_p, ctypes.c_int, ctypes.POINTER(_Itimerspec),
                                      ctypes.POINTER(_Itimerspec)]
        lib.timer_gettime.argtypes = [timer_p, ctypes.POINTER(_Itimerspec)]
        lib.timer_delete.argtypes = [timer_p]
        lib.sigaction.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        return lib
    return None


def c_handler(signum: int) -> int | None:
    """The address of ``signum``'s handler as the kernel has it (0 ``SIG_DFL``, 1 ``SIG_IGN``;
    Python's own C handler once ``signal.signal`` set one), read with ``sigaction(2)``; None where
    ``posix_timers()`` is None."""
    lib = posix_timers()
    if lib is None:
        return None
    old = ctypes.create_string_buffer(256)  # glibc's struct sigaction is 152 bytes
    if lib.sigaction(signum, None, old) != 0:
        return None
    return ctypes.c_void_p.from_buffer(old).value or 0


def free_realtime_signal(is_kits: Callable[[object], bool]) -> int | None:
    """The highest real-time signal with no handler (``signal.getsignal`` is ``SIG_DFL`` and the
    kernel's is ``SIG_DFL``) that this thread does not block, or one whose Python handler
    ``is_kits`` (left inert by an earlier use); None if none is (or no ``posix_timers()``).
    From the top down: applications and libraries number theirs from ``SIGRTMIN`` up."""
    if posix_timers() is None:
        return None
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    for signum in range(signal.SIGRTMAX, signal.SIGRTMIN - 1, -1):
        handler = signal.getsignal(signum)
        if is_kits(handler) or (handler == signal.SIG_DFL and c_handler(signum) == 0
                                and signum not in blocked):
            return signum
    return None


class PosixTimer:
    """One ``timer_create(CLOCK_MONOTONIC)`` timer sending ``signum`` to the thread ``thread_id``
    (a native id: ``threading.get_native_id()``), in the process that created it."""

    def __init__(self, lib: ctypes.CDLL, timer_id: ctypes.c_void_p, signum: int) -> None:
        self._lib = lib
        self._id = timer_id
        self.signum = signum
        self.pid = os.getpid()  # timers are not inherited: after fork() the id is another's
        self.deleted = False

    @classmethod
    def create(cls, signum: int, *, thread_id: int) -> PosixTimer:
        """A disarmed timer; ``OSError`` (errno) if the C library refuses, or has no timers."""
        lib = posix_timers()
        if lib is None:
            raise OSError(0, "no POSIX timers through ctypes on this platform")
        event = _Sigevent(sigev_signo=signum, sigev_notify=SIGEV_THREAD_ID,
                          sigev_notify_thread_id=thread_id)
        timer_id = ctypes.c_void_p()
        if lib.timer_create(time.CLOCK_MONOTONIC, ctypes.byref(event), ctypes.byref(timer_id)) != 0:
            _raise_errno("timer_create")
        return cls(lib, timer_id, signum)

    def start(self, every_s: float) -> None:
        """Fire in ``every_s`` seconds, then every ``every_s`` seconds (> 0)."""
        period = _Timespec(*divmod(round(every_s * 1e9), 1_000_000_000))
        spec = _Itimerspec(period, period)
        if self._lib.timer_settime(self._id, 0, ctypes.byref(spec), None) != 0:
            _raise_errno("timer_settime")

    def interval_s(self) -> float:
        """The period in seconds (0.0 disarmed, or deleted, or in another process)."""
        if self.deleted or self.pid != os.getpid():
            return 0.0
        spec = _Itimerspec()
        if self._lib.timer_gettime(self._id, ctypes.byref(spec)) != 0:
            return 0.0
        return spec.it_interval.tv_sec + spec.it_interval.tv_nsec / 1e9

    def delete(self) -> None:
        """Disarm and free the timer (once; never in a forked child, where the id is not ours)."""
        if not self.deleted and self.pid == os.getpid():
            self._lib.timer_delete(self._id)
        self.deleted = True


def _raise_errno(call: str) -> None:
    err = ctypes.get_errno()
    raise OSError(err, f"{call}: {os.strerror(err)}")

"""Ticks in the loop thread from a signal timer, for a loop that runs in the main thread.

    ticks = install_ticks(on_tick, every_s=0.005)   # on the loop thread; or None (use a watchdog)
    ticks.name                                       # "rt-timer" or "alarm": LoopReport.sampled_by
    ...                                              # on_tick(frame) every 5 ms, in that thread
    ticks.close()                                    # stop, and give the signal back as it was

Why: a watchdog thread posts heartbeats and samples the loop thread only when the OS runs the
watchdog; on a loaded machine it may not run during a 20 ms block at all, and while it holds the
GIL without a CPU it blocks the loop itself. A kernel timer fires on time whatever the load, and
CPython runs the Python handler in the main thread with the frame it interrupted (Python
``signal`` docs: "Python signal handlers are always executed in the main Python thread", the
handler receives "the current stack frame"). So a tick during a block sees the blocking line in
every case:

- a sleep, a blocking socket call, a lock wait: the call is interrupted (EINTR), the handler
  runs, then Python retries it with the time left (PEP 475);
- Python code: the handler runs at the next check of the eval loop, at the line running then;
- a long C call that holds the GIL (a big regex, ``sum`` of a long range): the handler runs right
  after it returns, at the check that ends the ``CALL``, while the frame still shows that line.

Two timers, the first that can run wins (``install_ticks``):

1. ``TimerTicks`` (``"rt-timer"``, Linux): a POSIX timer of its own (``timer_create(2)``,
   ``kit.loop.rt_timer``) sending a free real-time signal to the loop thread. It needs neither
   SIGALRM nor ITIMER_REAL, so it runs under pytest-timeout's ``signal`` method and beside an
   app's ``signal.alarm``.
2. ``AlarmTicks`` (``"alarm"``, where there is no ``timer_create``: macOS): SIGALRM with
   ``setitimer(ITIMER_REAL)``, only when SIGALRM has no handler (``SIG_DFL``), is not blocked in
   that thread and no ITIMER_REAL is armed.

The handler is installed with ``siginterrupt(signum, False)`` (``SA_RESTART``): calls the kernel
can restart are restarted rather than failing with EINTR inside a C library that does not retry
them; sleeps, selector waits and socket calls with a timeout are never restarted by the kernel
(``signal(7)``), Python retries those itself (real-time signals behave as SIGALRM here).

The kit never takes a timer or a handler from the user: one ticks object runs at a time, in the
main thread, on a signal with no handler, and the monitor keeps its watchdog thread otherwise. A
handler or timer the user sets while the ticks run is seen before the loop's next wait in its
selector (``lost``, ``still_ours``; the monitor's watchdog thread then takes over) and left
alone; a loop that never waits does not see it. ``close`` puts ``SIG_DFL`` back only while no
signal of the kit's is pending (a pending one would then end the process: ``signal(7)``).
"""

from __future__ import annotations

import _signal
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import ClassVar

from kit.loop.rt_timer import PosixTimer, c_handler, free_realtime_signal

Tick = Callable[[FrameType | None], None]
# signal.getsignal turns an int handler into an enum through a caught ValueError: microseconds per
# call, before every selector wait. The C function under it returns the handler as it is.
_raw_getsignal = getattr(_signal, "getsignal", signal.getsignal)
_active: SignalTicks | None = None  # the one ticks object the process-wide handler feeds


def _on_tick_signal(signum: int, frame: FrameType | None) -> None:
    ticks = _active
    if ticks is not None and ticks.signum == signum:
        ticks.last_tick = time.perf_counter()
        ticks.on_tick(frame)


def _is_kits(handler: object) -> bool:
    return handler is _on_tick_signal


class SignalTicks:
    """``on_tick(frame)`` every ``every_s`` seconds in the main thread from a timer's signal
    ``signum``; a subclass says which signal is free and how its timer is armed, read, stopped."""

    name: ClassVar[str]

    def __init__(self, on_tick: Tick, every_s: float, signum: int) -> None:
        self.on_tick = on_tick
        self.every_s = every_s
        self.signum = int(signum)
        self.active = True
        self.last_tick = time.perf_counter()  # when the handler last ran
        self._c_handler: int | None = None  # the kernel's handler once ours is set (Python's)

    @property
    def signal_name(self) -> str:
        """The signal as the user names it: ``SIGALRM``."""
        return signal.Signals(self.signum).name

    @classmethod
    def install(cls, on_tick: Tick, *, every_s: float) -> SignalTicks | None:
        """Start ticking (call on the loop thread), or None where the module docstring says this
        timer is not used. Never raises."""
        global _active
        if _active is not None or threading.current_thread() is not threading.main_thread():
            return None
        ticks = None
        try:
            signum = cls._free_signal()
            if signum is None:
                return None
            ticks = cls(on_tick, every_s, signum)
            signal.signal(signum, _on_tick_signal)
            signal.siginterrupt(signum, False)
            ticks._c_handler = c_handler(signum)
            _active = ticks
            ticks._arm()
        except (ValueError, OSError, AttributeError):
            if ticks is not None:
                ticks.close()
            return None
        return ticks

    @classmethod
    def _free_signal(cls) -> int | None:
        raise NotImplementedError

    def _arm(self) -> None:
        raise NotImplementedError

    def _armed(self) -> bool:
        """The kit's timer still runs with the kit's period."""
        raise NotImplementedError

    def _disarm(self) -> None:
        raise NotImplementedError

    def lost(self, now: float) -> bool:
        """A cheap first look (no system call): the signal's Python handler is another's, or no
        tick ran for four periods (the user's timer replaced the kit's, or a handler set from C).
        ``still_ours`` then says for sure."""
        return _raw_getsignal(self.signum) is not _on_tick_signal or now - self.last_tick > 4 * self.every_s

    def still_ours(self) -> bool:
        """False (and the ticks stop for good) once the signal's handler (from Python or C) or the
        timer is no longer the kit's: the user took one, and both are then theirs. Any thread."""
        if self.active and (signal.getsignal(self.signum) is not _on_tick_signal
                            or c_handler(self.signum) != self._c_handler or not self._armed()):
            self.close()
        return self.active

    def close(self) -> None:
        """Stop the timer and, from the main thread, put ``SIG_DFL`` back (from another thread the
        inert handler stays until ``close_on_main_thread`` runs there). A handler or timer the
        user set meanwhile is left alone."""
        global _active
        if not self.active:
            return
        self.active = False
        if _active is self:
            _active = None
        self._disarm()  # the kit's timer, even under a user's handler
        if threading.current_thread() is threading.main_thread():
            self.close_on_main_thread()

    def close_on_main_thread(self) -> None:
        """Put ``SIG_DFL`` back unless the user or another ticks object holds the signal, or a
        tick is still pending (blocked): the inert handler then stays."""
        if ((_active is None or _active.signum != self.signum)
                and signal.getsignal(self.signum) is _on_tick_signal
                and self.signum not in signal.sigpending()):
            signal.signal(self.signum, signal.SIG_DFL)


class TimerTicks(SignalTicks):
    """Ticks from a POSIX timer of the kit's own and a free real-time signal (``kit.loop.rt_timer``)."""

    name = "rt-timer"
    _timer: PosixTimer | None = None

    @property
    def signal_name(self) -> str:
        """``SIGRTMIN+30``: Python's ``signal.SIGRTMIN`` is glibc's, above its own reserved ones."""
        return f"SIGRTMIN+{self.signum - signal.SIGRTMIN}"

    @classmethod
    def _free_signal(cls) -> int | None:
        return free_realtime_signal(_is_kits)

    def _arm(self) -> None:
        self._timer = PosixTimer.create(self.signum, thread_id=threading.get_native_id())
        self._timer.start(self.every_s)

    def _armed(self) -> bool:
        return self._timer is not None and abs(self._timer.interval_s() - self.every_s) <= 1e-4

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.delete()


class AlarmTicks(SignalTicks):
    """Ticks from SIGALRM and ``setitimer(ITIMER_REAL)``, when the user holds neither."""

    name = "alarm"

    @classmethod
    def _free_signal(cls) -> int | None:
        if (not hasattr(signal, "setitimer")
                or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, _on_tick_signal)
                or signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0)
                or signal.SIGALRM in signal.pthread_sigmask(signal.SIG_BLOCK, [])):
            return None
        return int(signal.SIGALRM)

    def _arm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, self.every_s, self.every_s)

    def _armed(self) -> bool:
        return abs(signal.getitimer(signal.ITIMER_REAL)[1] - self.every_s) <= 1e-4

    def _disarm(self) -> None:
        if self._armed():
            signal.setitimer(signal.ITIMER_REAL, 0)


TICK_SOURCES: tuple[type[SignalTicks], ...] = (TimerTicks, AlarmTicks)


def install_ticks(on_tick: Tick, *, every_s: float) -> SignalTicks | None:
    """The first of ``TICK_SOURCES`` that can run, started (call on the loop thread); None when
    none can (not the main thread, another ticks object runs, every signal held). Never raises."""
    for source in TICK_SOURCES:
        ticks = source.install(on_tick, every_s=every_s)
        if ticks is not None:
            return ticks
    return None

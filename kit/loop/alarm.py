"""A SIGALRM timer that ticks in the loop thread, for a loop that runs in the main thread.

    ticks = AlarmTicks.install(on_tick, every_s=0.005)   # on the loop thread; or None
    ...                                                   # on_tick(frame) every 5 ms, in that thread
    ticks.close()                                         # stop, and give SIGALRM back as it was

Why: a watchdog thread posts heartbeats and samples the loop thread only when the OS runs the
watchdog; on a loaded machine it may not run during a 20 ms block at all, and while it holds the
GIL without a CPU it blocks the loop itself. The kernel's real-time interval timer
(``setitimer(ITIMER_REAL)``) fires on time whatever the load, and CPython runs the Python handler
in the main thread with the frame it interrupted (Python ``signal`` docs: "Python signal handlers
are always executed in the main Python thread", the handler receives "the current stack frame").
So a tick during a block sees the blocking line in every case:

- a sleep, a blocking socket call, a lock wait: the call is interrupted (EINTR), the handler
  runs, then Python retries it with the time left (PEP 475);
- Python code: the handler runs at the next check of the eval loop, at the line running then;
- a long C call that holds the GIL (a big regex, ``sum`` of a long range): the handler runs right
  after it returns, at the check that ends the ``CALL``, while the frame still shows that line.

The handler is installed with ``siginterrupt(SIGALRM, False)`` (``SA_RESTART``): calls the kernel
can restart are restarted rather than failing with EINTR inside a C library that does not retry
them; sleeps, selector waits and socket calls with a timeout are never restarted by the kernel
(``signal(7)``), Python retries those itself.

Used only when the loop runs in the main thread, SIGALRM has no handler of the user's (it is
``SIG_DFL``), SIGALRM is not blocked in that thread and no ITIMER_REAL is armed (pytest-timeout's
``signal`` method, ``signal.alarm``): the kit never takes a timer or a handler from the user, and
the monitor keeps its watchdog thread otherwise. A handler or timer the user sets while the ticks
run is seen before the loop's next wait in its selector (``lost``, ``still_ours``; the monitor's
watchdog thread then takes over) and left alone; a loop that never waits does not see it.
"""

from __future__ import annotations

import _signal
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

Tick = Callable[[FrameType | None], None]
# signal.getsignal turns an int handler into an enum through a caught ValueError: microseconds per
# call, before every selector wait. The C function under it returns the handler as it is.
_raw_getsignal = getattr(_signal, "getsignal", signal.getsignal)
_active: AlarmTicks | None = None  # the one timer the process-wide handler feeds


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    ticks = _active
    if ticks is not None:
        ticks.last_tick = time.perf_counter()
        ticks.on_tick(frame)


class AlarmTicks:
    """``on_tick(frame)`` every ``every_s`` seconds in the main thread; see the module docstring."""

    def __init__(self, on_tick: Tick, every_s: float) -> None:
        self.on_tick = on_tick
        self.every_s = every_s
        self.active = True
        self.last_tick = time.perf_counter()  # when the handler last ran

    @classmethod
    def install(cls, on_tick: Tick, *, every_s: float) -> AlarmTicks | None:
        """Start ticking (call on the loop thread), or None where the module docstring says the
        timer is not used. Never raises."""
        global _active
        if (not hasattr(signal, "setitimer") or _active is not None
                or threading.current_thread() is not threading.main_thread()):
            return None
        try:
            if (signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, _on_alarm)
                    or signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0)
                    or signal.SIGALRM in signal.pthread_sigmask(signal.SIG_BLOCK, [])):
                return None
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.siginterrupt(signal.SIGALRM, False)
            ticks = cls(on_tick, every_s)
            _active = ticks
            signal.setitimer(signal.ITIMER_REAL, every_s, every_s)
        except (ValueError, OSError, AttributeError):
            return None
        return ticks

    def lost(self, now: float) -> bool:
        """A cheap first look (no system call): SIGALRM's handler is another's, or no tick ran for
        four periods (the user's timer replaced the kit's). ``still_ours`` then says for sure."""
        return _raw_getsignal(signal.SIGALRM) is not _on_alarm or now - self.last_tick > 4 * self.every_s

    def still_ours(self) -> bool:
        """False (and the ticks stop for good) once SIGALRM's handler or ITIMER_REAL is no longer
        the kit's: the user took one (``signal.signal``, ``signal.alarm``, ``setitimer``), and
        both are then theirs. Any thread may ask."""
        if self.active and (signal.getsignal(signal.SIGALRM) is not _on_alarm
                            or abs(signal.getitimer(signal.ITIMER_REAL)[1] - self.every_s) > 1e-4):
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
        if abs(signal.getitimer(signal.ITIMER_REAL)[1] - self.every_s) <= 1e-4:
            signal.setitimer(signal.ITIMER_REAL, 0)  # the kit's ticks, even under a user's handler
        if signal.getsignal(signal.SIGALRM) is not _on_alarm:
            return
        if threading.current_thread() is threading.main_thread():
            self.close_on_main_thread()

    @staticmethod
    def close_on_main_thread() -> None:
        """Put ``SIG_DFL`` back unless another timer of the kit's or the user holds SIGALRM."""
        if _active is None and signal.getsignal(signal.SIGALRM) is _on_alarm:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)

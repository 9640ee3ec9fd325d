"""The POSIX timer sampler (kit.loop.rt_timer, kit.loop.alarm.TimerTicks) beside a user's signals.

These run in pytest's main thread, where pytest-timeout's ``signal`` method may hold SIGALRM; each
test arms its own SIGALRM exactly as that method does and restores what was there.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

import pytest

from kit.loop import LoopMonitor
from kit.loop.rt_timer import PosixTimer, c_handler, free_realtime_signal, posix_timers

pytestmark = pytest.mark.skipif(posix_timers() is None, reason="POSIX timers through ctypes: Linux "
                                "x86_64/aarch64 only (elsewhere the kit uses SIGALRM)")


def _handled_rt_signals() -> set[int]:
    return {s for s in range(signal.SIGRTMIN, signal.SIGRTMAX + 1)
            if signal.getsignal(s) is not signal.SIG_DFL}


def _users_timeout(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the user's SIGALRM timeout fired")


@contextlib.contextmanager
def _sigalrm_held_like_pytest_timeout() -> Iterator[None]:
    """``pytest_timeout.pytest_timeout_set_timer`` (signal method): a handler, ITIMER_REAL 300 s."""
    previous, previous_timer = signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)
    signal.signal(signal.SIGALRM, _users_timeout)
    signal.setitimer(signal.ITIMER_REAL, 300)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if previous_timer[0] > 0:
            signal.setitimer(signal.ITIMER_REAL, *previous_timer)


async def _trace(block_s: float) -> tuple[str, set[tuple[str, int]], int]:
    monitor = LoopMonitor(asyncio.get_running_loop()).start()
    await asyncio.sleep(0.01)
    time.sleep(block_s)  # noqa: ASYNC251 - BLOCK
    await asyncio.sleep(0.01)
    report = monitor.stop()
    lines = {(site.user_frame.function, site.user_frame.lineno)
             for stall in report.stalls for site in stall.sites if site.user_frame}
    return report.sampled_by, lines, len(report.stalls)


BLOCK = ("_trace", _trace.__code__.co_firstlineno + 3)


async def test_a_25ms_sleep_is_traced_by_the_rt_timer_while_sigalrm_is_held() -> None:
    before = _handled_rt_signals()
    with _sigalrm_held_like_pytest_timeout():
        sampled_by, lines, _ = await _trace(0.025)
        handler = signal.getsignal(signal.SIGALRM)
        remaining, interval = signal.getitimer(signal.ITIMER_REAL)
    assert (sampled_by, BLOCK in lines) == ("rt-timer", True), lines
    # the user's handler and one-shot timer, untouched; the kit's signal given back
    assert (handler, 290 < remaining < 300, interval) == (_users_timeout, True, 0.0)
    assert _handled_rt_signals() == before


async def test_a_users_handler_set_on_the_kits_signal_mid_watch_is_kept() -> None:
    before = _handled_rt_signals()
    monitor = LoopMonitor(asyncio.get_running_loop()).start()
    await asyncio.sleep(0.01)
    (kits,) = _handled_rt_signals() - before
    fired: list[int] = []
    try:
        signal.signal(kits, lambda signum, frame: fired.append(signum))
        await asyncio.sleep(0.05)  # the loop's next wait sees it: the kit's timer is deleted
        fired.clear()
        await asyncio.sleep(0.05)
        from_kit = list(fired)
        signal.raise_signal(kits)  # the user's own signal reaches the user's handler
        await asyncio.sleep(0)
        time.sleep(0.3)  # noqa: ASYNC251 - traced by the watchdog
        await asyncio.sleep(0.01)
        report = monitor.stop()
        handler_after = signal.getsignal(kits)
    finally:
        signal.signal(kits, signal.SIG_DFL)
    assert (from_kit, fired) == ([], [kits])
    assert handler_after is not signal.SIG_DFL and handler_after.__name__ == "<lambda>"
    assert report.sampled_by == f"rt-timer, then watchdog (SIGRTMIN+{kits - signal.SIGRTMIN} was taken)"
    functions = {s.user_frame.function for st in report.stalls for s in st.sites if s.user_frame}
    assert "test_a_users_handler_set_on_the_kits_signal_mid_watch_is_kept" in functions, report


async def test_a_handler_set_from_c_is_never_taken() -> None:
    libc = ctypes.CDLL(None)
    libc.signal.argtypes, libc.signal.restype = [ctypes.c_int, ctypes.c_void_p], ctypes.c_void_p
    top = free_realtime_signal(lambda handler: False)
    assert top is not None
    libc.signal(top, 1)  # SIG_IGN, set from C: Python's getsignal still says SIG_DFL
    try:
        assert (signal.getsignal(top), c_handler(top)) == (signal.SIG_DFL, 1)
        assert free_realtime_signal(lambda handler: False) != top
        sampled_by, lines, _ = await _trace(0.3)
        assert c_handler(top) == 1
    finally:
        libc.signal(top, 0)
    assert (sampled_by, BLOCK in lines) == ("rt-timer", True)


async def test_one_ticks_object_at_a_time_an_inner_monitor_uses_the_watchdog() -> None:
    loop = asyncio.get_running_loop()
    outer = LoopMonitor(loop).start()
    await asyncio.sleep(0.01)
    inner_by, _, _ = await _trace(0.001)
    assert (inner_by, outer.stop().sampled_by) == ("watchdog", "rt-timer")


def test_posix_timer_runs_reads_and_deletes() -> None:
    signum = free_realtime_signal(lambda handler: False)
    assert signum is not None
    hits: list[int] = []
    signal.signal(signum, lambda s, f: hits.append(s))
    try:
        timer = PosixTimer.create(signum, thread_id=threading.get_native_id())
        assert timer.interval_s() == 0.0  # created disarmed
        timer.start(0.002)
        assert abs(timer.interval_s() - 0.002) < 1e-6
        deadline = time.monotonic() + 5
        while not hits and time.monotonic() < deadline:
            time.sleep(0.001)
        timer.delete()
        count = len(hits)
        time.sleep(0.01)
        assert (hits[:1], timer.interval_s(), len(hits)) == ([signum], 0.0, count)
        timer.delete()  # twice is harmless
    finally:
        signal.signal(signum, signal.SIG_DFL)


@pytest.mark.parametrize(("signum", "thread_id"), [(0, None), (None, 0)])
def test_posix_timer_refusals_raise_oserror_with_the_errno(signum: int | None,
                                                           thread_id: int | None) -> None:
    with pytest.raises(OSError) as raised:  # no such signal; no such thread in this process
        PosixTimer.create(signal.SIGRTMAX if signum is None else signum,
                          thread_id=threading.get_native_id() if thread_id is None else thread_id)
    assert raised.value.errno == errno.EINVAL and "timer_create" in str(raised.value)

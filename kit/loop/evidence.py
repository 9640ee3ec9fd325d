"""Evidence that tells a stall (the loop thread ran something) from descheduling (it waited for a CPU).

    clock = ThreadClock.for_current_thread()     # on the loop thread
    clock.read()                                 # ThreadTimes(cpu_s=1.25, runqueue_s=0.031)
    waiting = loop_is_waiting(stack)             # a sample inside the selector's wait, no callback running
    sites = stall_sites(samples)                 # each distinct stalling line, deepest user frame first
    judge_gap(gap_s=0.31, threshold_s=0.02, ...) # "stall" or "descheduled"

Facts relied on:

- ``/proc/<pid>/task/<tid>/schedstat`` holds three numbers: nanoseconds on a CPU, nanoseconds
  waiting on a run queue (runnable, not running), time slices (Linux
  ``Documentation/scheduler/sched-stats.rst``). The run-queue figure is the kernel's own
  account of "the machine did not run this thread". Where the file is missing (not Linux, or a
  kernel without schedstats) the CPU time comes from ``time.pthread_getcpuclockid`` and the
  run-queue time is unknown (``None``).
- An asyncio loop that runs no callback sits in ``BaseEventLoop._run_once`` (``selectors.select``
  below it); a callback runs under ``Handle._run`` (``asyncio/events.py``) below ``_run_once``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kit.loop.frames import FrameInfo, first_sdk_frame, last_user_frame

try:
    import resource
    _RUSAGE_THREAD: int | None = resource.RUSAGE_THREAD
except (ImportError, AttributeError):  # not Linux: no per-thread rusage
    _RUSAGE_THREAD = None

Verdict = Literal["stall", "descheduled"]


@dataclass(frozen=True)
class ThreadTimes:
    """A thread's CPU time and run-queue wait so far, in seconds (``runqueue_s`` None if unknown)."""

    cpu_s: float
    runqueue_s: float | None


class ThreadClock:
    """Reads one thread's CPU and run-queue times; any thread may call ``read()``."""

    def __init__(self, ident: int, native_id: int) -> None:
        self._fd: int | None = None
        try:
            self._fd = os.open(f"/proc/self/task/{native_id}/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None
        try:
            self._clock: int | None = time.pthread_getcpuclockid(ident)
        except (AttributeError, OSError):
            self._clock = None

    @classmethod
    def for_current_thread(cls) -> ThreadClock:
        return cls(threading.get_ident(), threading.get_native_id())

    def read(self) -> ThreadTimes | None:
        """The times now, or None when neither source is readable (the thread has ended)."""
        if self._fd is not None:
            try:
                fields = os.pread(self._fd, 128, 0).split()
                return ThreadTimes(int(fields[0]) / 1e9, int(fields[1]) / 1e9)
            except (OSError, ValueError, IndexError):
                pass
        if self._clock is not None:
            try:
                return ThreadTimes(time.clock_gettime(self._clock), None)
            except OSError:
                return None
        return None

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def voluntary_switches() -> int | None:
    """How many times the CALLING thread gave up its CPU to wait (a sleep, a blocking call, a lock
    or the GIL), ``getrusage(RUSAGE_THREAD).ru_nvcsw`` (Linux ``getrusage(2)``); None elsewhere.
    A thread only preempted (waiting for a CPU) counts involuntary switches, not these."""
    if _RUSAGE_THREAD is None:
        return None
    try:
        return resource.getrusage(_RUSAGE_THREAD).ru_nvcsw
    except OSError:
        return None


def _is_asyncio(frame: FrameInfo, module: str) -> bool:
    return frame.kind == "stdlib" and frame.short_path == f"asyncio/{module}.py"


def loop_is_waiting(stack: Sequence[FrameInfo]) -> bool:
    """True when the sample shows the loop in its own machinery (the selector's wait) with no
    callback running: the loop was idle, so a long gap around it is not the user's code."""
    run_once = next((i for i in range(len(stack) - 1, -1, -1)
                     if stack[i].function == "_run_once" and _is_asyncio(stack[i], "base_events")), None)
    if run_once is None:
        return False
    below = stack[run_once + 1:]
    handle = next((i for i, f in enumerate(below) if f.function == "_run" and _is_asyncio(f, "events")),
                  None)
    if handle is None:
        return True
    # the callback running is the monitor's own heartbeat: the loop is answering, not stuck
    return any(f.function == "_beat" and f.short_path == "kit/loop/monitor.py" for f in below[handle:])


def in_loop_machinery(stack: Sequence[FrameInfo]) -> bool:
    """True when the sample shows the loop running a callback but no code below it other than the
    standard library's and the kit's (asyncio's own callbacks, the self-pipe read, a C callback
    with no Python frame): nothing of the user's or a library's was running."""
    run_once = next((i for i in range(len(stack) - 1, -1, -1)
                     if stack[i].function == "_run_once" and _is_asyncio(stack[i], "base_events")), None)
    return run_once is not None and all(f.kind in ("stdlib", "kit") for f in stack[run_once + 1:])


@dataclass(frozen=True)
class StallSite:
    """One distinct place the loop thread was stuck: the deepest user line and the SDK call it made."""

    user_frame: FrameInfo | None
    sdk_frame: FrameInfo | None
    samples: int
    stack: tuple[FrameInfo, ...]  # the first sample taken there, outermost frame first

    @property
    def where(self) -> str:
        """``app.py:42 download_image → storage3/_sync/file_api.py:141 download``."""
        if self.user_frame is None and self.sdk_frame is None:
            inner = self.stack[-1].where if self.stack else "?"
            return f"(no user or SDK code: loop thread in {inner})"
        return " → ".join(f.where for f in (self.user_frame, self.sdk_frame) if f is not None)


def stall_sites(samples: Sequence[tuple[FrameInfo, ...]]) -> tuple[StallSite, ...]:
    """Distinct (deepest user frame, SDK call) pairs over the samples, most samples first
    (ties keep the order they were first seen)."""
    groups: dict[tuple[FrameInfo | None, ...], list[tuple[FrameInfo, ...]]] = {}
    for stack in samples:
        user = last_user_frame(stack)
        sdk = first_sdk_frame(stack, after=user)
        inner = stack[-1] if stack and user is None and sdk is None else None
        groups.setdefault((user, sdk, inner), []).append(stack)
    sites = [StallSite(user, sdk, len(group), group[0]) for (user, sdk, _), group in groups.items()]
    return tuple(sorted(sites, key=lambda s: -s.samples))


def judge_gap(*, gap_s: float, threshold_s: float, running_samples: int, waiting_samples: int,
              cpu_s: float | None, runqueue_s: float | None, watchdog_late_s: float,
              idle_s: float | None = None, code_samples: int | None = None, blocked_switches: int | None = None) -> Verdict:
    """Whether a gap between heartbeats longer than the threshold is a stall or descheduling.

    A stall: the loop thread computed for longer than the threshold, or it ran (or may have run)
    the user's code for longer than the threshold once the time it waited for a CPU is taken off.
    With ``idle_s`` (the time idle in the selector's wait over the gap, ``kit.loop.selector_wait``)
    the loop's busy time is measured, not guessed from samples: under the threshold,
    descheduling. Over it, a stall when the busy time less the run-queue wait still reaches the
    threshold. Otherwise the
    run-queue wait may overlap a blocking call (a thread woken inside a sleep by the sampler's
    signal queues for a CPU while its sleep's deadline passes), so it cannot simply be taken off:
    a stall when a sample caught the loop running code beyond its own machinery
    (``code_samples``, default ``running_samples``; see ``in_loop_machinery``) and the thread
    blocked in a call outside the wait (``blocked_switches`` > 0: voluntary context switches,
    ``voluntary_switches``); a thread that was only preempted never blocked. Where switches are
    not counted, blocked time (busy, neither on a CPU nor queued for one) of a quarter threshold
    stands in for them. Without ``idle_s``, descheduling: every sample shows the loop idle in its
    selector, or the time left after the run-queue wait (and, with no sample at all, the
    watchdog's own lateness) is under the threshold.
    """
    if cpu_s is not None and cpu_s >= threshold_s:
        return "stall"
    if idle_s is not None:
        busy = gap_s - idle_s
        busy_runqueue = runqueue_s or 0.0
        if busy < threshold_s:
            return "descheduled"
        if busy - busy_runqueue >= threshold_s:
            return "stall"
        if not (running_samples if code_samples is None else code_samples):
            return "descheduled"
        if blocked_switches is not None:
            return "stall" if blocked_switches > 0 else "descheduled"
        blocked = busy - (cpu_s or 0.0) - busy_runqueue
        return "stall" if blocked >= threshold_s / 4 else "descheduled"
    if waiting_samples and not running_samples:
        return "descheduled"
    unexplained = gap_s - (runqueue_s or 0.0)
    if not running_samples:
        unexplained -= watchdog_late_s
    return "stall" if unexplained >= threshold_s else "descheduled"

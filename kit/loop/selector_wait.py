"""How long the loop thread waited in its selector (idle), and how much of that on a run queue.

    wait = SelectorWait.install(loop, clock)    # on the loop thread; None for a loop without one
    wait.totals(time.perf_counter())            # (idle_s, idle_runqueue_s) so far
    wait.close()

A gap between heartbeats is a stall only if the loop thread spent it outside its selector's wait
running something (a callback computing, or blocked in a sync call), not idle in the wait and not
waiting for a CPU. This wraps the selector's ``select`` (the one place an asyncio selector loop
waits: ``BaseEventLoop._run_once`` calls ``self._selector.select(timeout)``, ``asyncio/base_events.py``)
to add up the time spent inside it. A wait that cannot sleep (``timeout <= 0``: callbacks are ready)
costs one Python call; one that can also reads the thread's run-queue time before and after
(``ThreadClock``), because a thread woken from its wait queues for a CPU before the wait returns,
and that queueing is idle time, not the run-queue wait of a callback; and the thread's voluntary
context switches after it, so a sleep in a callback since is told from sleeping in the wait.
A loop without a Python-level
selector (uvloop) gets None: the monitor then judges gaps without this evidence.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kit.loop.evidence import ThreadClock, voluntary_switches


class SelectorWait:
    """Adds up the time inside ``loop._selector.select``; see the module docstring."""

    def __init__(self, selector: Any, clock: ThreadClock) -> None:
        self._selector = selector
        self._inner = selector.select
        self._clock = clock
        self._idle_s = 0.0
        self._idle_runqueue_s = 0.0
        self._since: float | None = None  # perf_counter when the current wait began
        self.last_wait_end = 0.0  # perf_counter when the last wait that could sleep ended
        self.switches_after_wait: int | None = None  # the thread's voluntary switches then
        selector.select = self._select

    @classmethod
    def install(cls, loop: asyncio.AbstractEventLoop, clock: ThreadClock) -> SelectorWait | None:
        """Wrap the loop's selector (call on the loop thread, between two of its waits)."""
        selector = getattr(loop, "_selector", None)
        if selector is None or not callable(getattr(selector, "select", None)) \
                or "select" in vars(selector):  # not a selector loop, or wrapped already
            return None
        return cls(selector, clock)

    def _select(self, timeout: float | None = None) -> Any:
        if timeout is not None and timeout <= 0:
            return self._inner(timeout)
        # the clock is read inside the timed span: a preemption anywhere in it counts on both sides
        self._since = start = time.perf_counter()
        before = self._clock.read()
        try:
            return self._inner(timeout)
        finally:
            after = self._clock.read()
            idle = time.perf_counter() - start
            self._since = None
            self._idle_s += idle
            self.switches_after_wait = voluntary_switches()
            self.last_wait_end = start + idle
            if before and after and before.runqueue_s is not None and after.runqueue_s is not None:
                self._idle_runqueue_s += min(idle, after.runqueue_s - before.runqueue_s)

    def totals(self, now: float) -> tuple[float, float]:
        """(seconds idle in the wait, seconds of that on a run queue) since install, a wait still
        going on counted up to ``now`` (any thread may ask)."""
        since = self._since
        return self._idle_s + (max(0.0, now - since) if since is not None else 0.0), self._idle_runqueue_s

    def close(self) -> None:
        """Unwrap the selector (any thread; a wait in progress finishes normally)."""
        if vars(self._selector).get("select") == self._select:
            del self._selector.select

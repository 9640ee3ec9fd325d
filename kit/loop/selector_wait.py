"""How long the loop thread waited in its selector (idle), and whether it blocked anywhere else since.

    wait = SelectorWait.install(loop)           # on the loop thread; None for a loop without one
    wait.idle(time.perf_counter())              # seconds idle in the wait so far
    wait.last_wait_end, wait.switches_after_wait
    wait.close()

A gap between heartbeats is a stall only if the loop thread spent it outside its selector's wait
running something (a callback computing, or blocked in a sync call), not idle in the wait and not
waiting for a CPU. This wraps the selector's ``select`` (the one place an asyncio selector loop
waits: ``BaseEventLoop._run_once`` calls ``self._selector.select(timeout)``, ``asyncio/base_events.py``)
to add up the time spent inside it. A wait that cannot sleep (``timeout <= 0``: callbacks are ready)
costs one Python call; one that can also reads two clocks and the thread's voluntary context
switches after it (one ``getrusage``), so a thread that blocked in a callback since is told from
one that only slept in the wait. A loop without a Python-level selector (uvloop) gets None: the
monitor then judges gaps without this evidence. The time a thread woken from its wait queues for
a CPU counts as idle here (it is inside the wait) and again in its run-queue total: the judge
takes the run-queue total off the busy time, erring towards "descheduled".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from kit.loop.evidence import voluntary_switches


class SelectorWait:
    """Adds up the time inside ``loop._selector.select``; see the module docstring."""

    def __init__(self, selector: Any, before_wait: Callable[[], None] | None = None) -> None:
        self._selector = selector
        self._before_wait = before_wait
        self._inner = selector.select
        self._idle_s = 0.0
        self._since: float | None = None  # perf_counter when the current wait began
        self.last_wait_end = 0.0  # perf_counter when the last wait that could sleep ended
        self.switches_after_wait: int | None = None  # the thread's voluntary switches then
        selector.select = self._select

    @classmethod
    def install(cls, loop: asyncio.AbstractEventLoop, *,
                before_wait: Callable[[], None] | None = None) -> SelectorWait | None:
        """Wrap the loop's selector (call on the loop thread, between two of its waits);
        ``before_wait()`` runs before each wait that can sleep."""
        selector = getattr(loop, "_selector", None)
        if selector is None or not callable(getattr(selector, "select", None)) \
                or "select" in vars(selector):  # not a selector loop, or wrapped already
            return None
        return cls(selector, before_wait)

    def _select(self, timeout: float | None = None) -> Any:
        if timeout is not None and timeout <= 0:
            return self._inner(timeout)
        if self._before_wait is not None:
            self._before_wait()
        self._since = start = time.perf_counter()
        try:
            return self._inner(timeout)
        finally:
            self.switches_after_wait = voluntary_switches()
            self.last_wait_end = end = time.perf_counter()
            self._since = None
            self._idle_s += end - start

    def idle(self, now: float) -> float:
        """Seconds idle in the wait since install, a wait still going on counted up to ``now``
        (any thread may ask)."""
        since = self._since
        return self._idle_s + (max(0.0, now - since) if since is not None else 0.0)

    def close(self) -> None:
        """Unwrap the selector (any thread; a wait in progress finishes normally)."""
        if vars(self._selector).get("select") == self._select:
            del self._selector.select

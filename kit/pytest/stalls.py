"""Run one async test under the loop monitor (``kit.watch_loop``) and keep what it saw.

    item.obj = watched(item.obj, threshold_ms=100, findings=findings)

The wrapper is itself a coroutine function, so pytest-asyncio (strict or auto) and anyio's
plugin run it exactly as they would run the test: on their loop, with the same fixtures.
Under a non-asyncio backend (anyio with trio) nothing is watched and the findings say so.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kit.loop import Stall
    from kit.pytest.findings import Findings


def heartbeat_ms(threshold_ms: float) -> float:
    """A beat every tenth of the threshold, 5 ms at the finest: the duration is exact to one beat."""
    return max(5.0, threshold_ms / 10.0)


def watched(func: Callable[..., Coroutine[Any, Any, Any]], *, threshold_ms: float,
            findings: Findings) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``func`` wrapped so its run is watched; the LoopReport lands in ``findings.loop_report``."""

    @functools.wraps(func)
    async def kit_watched(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # trio (through anyio): there is no asyncio loop to watch
            findings.not_watched = "not an asyncio event loop"
            return await func(*args, **kwargs)
        from kit.loop import watch_loop

        watch = watch_loop(threshold_ms=threshold_ms, interval_ms=heartbeat_ms(threshold_ms))
        try:
            async with watch:
                return await func(*args, **kwargs)
        finally:
            findings.loop_report = watch.report

    return kit_watched


def blames_code(stall: Stall) -> bool:
    """A stall the test can be failed for: the loop thread was in user code or in the SDK.

    Stalls seen only in the event loop's own machinery, pytest or the kit (a GC pause, the
    machine descheduling the process while the loop waited), and stalls inside the kit's
    own test helpers called from a test (``kit_faults.add`` talks to the stack with a sync
    request), are reported, never failed on.
    """
    if stall.user_frame is None:
        return stall.sdk_frame is not None
    stack = list(stall.stack)
    below = stack[stack.index(stall.user_frame) + 1:] if stall.user_frame in stack else []
    return not (below and below[0].kind == "kit")

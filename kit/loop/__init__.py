"""The loop monitor: heartbeat + watchdog that traces event-loop stalls to lines, and the await guard.

    async with kit.watch_loop() as w:
        await service.download_image(path)
    w.stalls    # [<Stall 212 ms at app.py:42 download_image → storage3/_sync/file_api.py:141 download>]
"""

from __future__ import annotations

from kit.loop.evidence import StallSite
from kit.loop.frames import SDK_PACKAGES, FrameInfo, classify
from kit.loop.guard import (
    AwaitGuard,
    AwaitOnSyncResult,
    await_guard,
    await_guard_active,
    disable_await_guard,
    enable_await_guard,
)
from kit.loop.monitor import LoopMonitor, LoopReport, SchedulingDelay, Stall
from kit.loop.watch import LoopWatch, watch_loop

__all__ = [
    "SDK_PACKAGES",
    "AwaitGuard",
    "AwaitOnSyncResult",
    "FrameInfo",
    "LoopMonitor",
    "LoopReport",
    "LoopWatch",
    "SchedulingDelay",
    "Stall",
    "StallSite",
    "await_guard",
    "await_guard_active",
    "classify",
    "disable_await_guard",
    "enable_await_guard",
    "watch_loop",
]

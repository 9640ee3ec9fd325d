"""``watch_loop``: the loop monitor around the user's own code.

    async with kit.watch_loop() as w:          # watches the running loop
        await service.download_image(path)
    w.stalls                                   # [<Stall 212 ms at app.py:42 download_image → …>]
    print(w.stalls)                            # each stall in full, with its line of code

    with kit.watch_loop() as w:                # sync code ON a running loop (a Jupyter cell)
        ...
    with kit.watch_loop(loop) as w:            # or a loop you run yourself, in any thread
        loop.run_until_complete(main())

    @kit.watch_loop(threshold_ms=50)           # as a decorator (async or sync functions);
    async def handler(): ...                   # handler.watch.report after each call
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from typing_extensions import Self

from kit.errors import UsageError
from kit.loop.monitor import LoopMonitor, LoopReport, Stall

F = TypeVar("F", bound=Callable[..., Any])


class Stalls(list):  # list[Stall]
    """A plain list of :class:`Stall` whose ``str`` is the full text, not a row of reprs."""

    def __str__(self) -> str:
        from kit.loop.render import render_stall_text

        if not self:
            return "no stalls"
        return "\n".join(render_stall_text(s) for s in self)


class LoopWatch:
    """A reusable (not re-entrant) watch; ``report`` holds the last run's LoopReport."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, *,
                 threshold_ms: float = 20.0, interval_ms: float = 5.0) -> None:
        self.loop = loop
        self.threshold_ms = threshold_ms
        self.interval_ms = interval_ms
        self.report: LoopReport | None = None
        self._monitor: LoopMonitor | None = None

    def _begin(self, loop: asyncio.AbstractEventLoop) -> Self:
        if self._monitor is not None:
            raise UsageError("this watch_loop() is already active",
                             fix="use a separate kit.watch_loop() for nested or concurrent blocks")
        self._monitor = LoopMonitor(loop, threshold_ms=self.threshold_ms,
                                    interval_ms=self.interval_ms).start()
        self.report = None
        return self

    def _end(self) -> None:
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            self.report = monitor.stop()

    def __enter__(self) -> Self:
        loop = self.loop
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise UsageError(
                    "kit.watch_loop() in a sync `with` has no event loop to watch in this thread",
                    fix="use `async with kit.watch_loop()` inside a coroutine, or pass the loop: "
                        "`with kit.watch_loop(loop): loop.run_until_complete(...)`") from None
        return self._begin(loop)

    def __exit__(self, *exc: object) -> None:
        self._end()

    async def __aenter__(self) -> Self:
        running = asyncio.get_running_loop()
        if self.loop is not None and self.loop is not running:
            raise UsageError("`async with kit.watch_loop(loop)` was given a loop that is not the "
                             "running one", fix="drop the loop argument: async with watches the "
                                                "running loop")
        return self._begin(running)

    async def __aexit__(self, *exc: object) -> None:
        self._end()

    def __call__(self, func: F) -> F:
        """Decorate a sync or async function: each call runs inside this watch."""
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self:
                    return await func(*args, **kwargs)
            async_wrapper.watch = self  # type: ignore[attr-defined]
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        wrapper.watch = self  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    @property
    def stalls(self) -> Stalls:
        """Stalls of the last run (or so far, while active); ``print(w.stalls)`` lists each one
        with its line of code, one stall per paragraph."""
        if self._monitor is not None:
            return Stalls(self._monitor.report().stalls)
        return Stalls(self.report.stalls if self.report else [])

    @property
    def max_stall_ms(self) -> float:
        return max((s.duration_ms for s in self.stalls), default=0.0)

    def __repr__(self) -> str:
        state = "active" if self._monitor else (repr(self.report) if self.report else "not run")
        return f"<LoopWatch threshold {self.threshold_ms:g} ms: {state}>"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        if self.report is not None:
            return self.report._repr_mimebundle_()
        return {"text/plain": repr(self), "text/html": f"<code>{self!r}</code>"}


def watch_loop(loop: asyncio.AbstractEventLoop | None = None, *, threshold_ms: float = 20.0,
               interval_ms: float = 5.0) -> LoopWatch:
    """Watch an event loop for stalls: ``async with kit.watch_loop() as w: ...; w.stalls``."""
    return LoopWatch(loop, threshold_ms=threshold_ms, interval_ms=interval_ms)

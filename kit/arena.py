"""The arena: run a coroutine in a fresh event loop in a dedicated thread.

    value = run_in_arena(lambda: main())            # from a script, a Jupyter cell, papermill
    value = await arun_in_arena(lambda: main())     # from async code (the caller's loop keeps running)
    value = run_in_plain_thread(lambda: work())     # a thread with no event loop at all

Jupyter and papermill kernels already run a loop in the main thread, so ``asyncio.run``
there raises "cannot be called from a running event loop". The arena never touches the
caller's loop: results and stall figures are the same in a script, a notebook cell
(sync or top-level ``await``) and under papermill, with no nest_asyncio.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["arun_in_arena", "call_off_loop", "run_in_arena", "run_in_plain_thread"]


def run_in_plain_thread(func: Callable[[], T], *, name: str = "kit-plain") -> T:
    """Call ``func()`` in a new thread without an event loop; return its value or raise its error."""
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            box["error"] = exc

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        error = box.pop("error")
        raise error
    return box["value"]


def run_in_arena(factory: Callable[[], Coroutine[Any, Any, T]], *, name: str = "kit-arena") -> T:
    """Run ``factory()`` to completion in a fresh loop in its own thread: ``run_in_arena(lambda: main())``.

    The loop is closed afterwards (async generators and the default executor shut down,
    leftover tasks cancelled), so nothing leaks into the caller.
    """
    def main() -> T:
        loop = asyncio.new_event_loop()
        try:
            asyncio.set_event_loop(loop)
            return loop.run_until_complete(factory())
        finally:
            try:
                _cancel_leftovers(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    return run_in_plain_thread(main, name=name)


async def arun_in_arena(factory: Callable[[], Coroutine[Any, Any, T]], *,
                        name: str = "kit-arena") -> T:
    """``run_in_arena`` for async callers: awaits the arena thread without blocking this loop."""
    return await asyncio.to_thread(run_in_arena, factory, name=name)


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


async def call_off_loop(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Await an async method; run a sync one in a worker thread, so the loop never blocks
    on it: ``await call_off_loop(service.download_image, path)``."""
    if inspect.iscoroutinefunction(method):
        return await method(*args, **kwargs)
    return await asyncio.to_thread(method, *args, **kwargs)

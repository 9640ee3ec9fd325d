"""The six ways to call Supabase from Python, as runners of one operation.

    op = lambda c: c.table("chats").select("user_id").eq("id", 1).single().execute()
    MODES["to_thread"].client      # "sync": which client the operation is given
    await MODES["to_thread"].run(op, clients.sync)

| mode        | client | how                                              | from async code |
|-------------|--------|--------------------------------------------------|-----------------|
| sync        | sync   | plain thread, no event loop (the baseline)       | -               |
| async       | async  | ``await op(async_client)``                       | correct         |
| blocking    | sync   | ``op(sync_client)`` inside a coroutine           | bug (seeds/002) |
| to_thread   | sync   | ``await asyncio.to_thread(op, sync_client)``     | correct (fix)   |
| await_sync  | sync   | ``await op(sync_client)``                        | bug (000, 001)  |
| unawaited   | async  | ``op(async_client)`` without ``await``           | bug             |

Register more with ``register_mode(Mode(...))``; ``get_mode("nope")`` lists the known names.
"""

from __future__ import annotations

import asyncio
import inspect
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from kit.errors import UsageError
from kit.registry import Registry

Operation = Callable[[Any], Any]  # client -> result, an awaitable, or a coroutine
ClientKind = Literal["sync", "async"]

__all__ = ["MODES", "Mode", "Operation", "UnawaitedCoroutine", "get_mode", "register_mode",
           "resolve_modes"]


@dataclass(frozen=True)
class UnawaitedCoroutine:
    """What an un-awaited async call really gives: a coroutine that never ran.

    ``warning`` is the RuntimeWarning CPython emitted when the coroutine was dropped
    (``coroutine 'AsyncQueryRequestBuilder.execute' was never awaited``); the kit captures it
    so it does not leak into the caller.
    """

    qualname: str
    warning: str | None
    closed_by_kit: bool = False  # something else held the coroutine; the kit closed it

    def __repr__(self) -> str:
        return f"<coroutine {self.qualname} never awaited>"


@dataclass(frozen=True)
class Mode:
    """One way of calling: its name, which client it uses and whether it runs on a loop."""

    name: str
    client: ClientKind
    on_loop: bool
    verdict: Literal["baseline", "correct", "bug"]
    how: str
    run: Callable[[Operation, Any], Any]  # (op, client) -> value, or a coroutine when on_loop

    def __repr__(self) -> str:
        return f"<Mode {self.name}: {self.how}>"


def _run_sync(op: Operation, client: Any) -> Any:
    return op(client)


async def _run_async(op: Operation, client: Any) -> Any:
    value = op(client)
    return await value if inspect.isawaitable(value) else value


async def _run_blocking(op: Operation, client: Any) -> Any:
    return op(client)


async def _run_to_thread(op: Operation, client: Any) -> Any:
    return await asyncio.to_thread(op, client)


async def _run_await_sync(op: Operation, client: Any) -> Any:
    return await op(client)


async def _run_unawaited(op: Operation, client: Any) -> Any:
    return settle_unawaited(lambda: op(client))


def settle_unawaited(call: Callable[[], Any]) -> Any:
    """Call, and if it gives a coroutine, drop it the way buggy code does and keep the warning.

    The coroutine is released inside ``catch_warnings`` so CPython's "never awaited"
    RuntimeWarning is recorded here instead of reaching the caller; if something else still
    holds it, the kit closes it (no warning can leak later) and says so.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        value = call()
        if not inspect.iscoroutine(value):
            return value
        qualname = value.__qualname__
        ref = weakref.ref(value)
        del value
        leftover = ref()
        if leftover is not None:
            leftover.close()
            del leftover
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return UnawaitedCoroutine(qualname, messages[0] if messages else None,
                              closed_by_kit=ref() is not None or not messages)


MODES: Registry[Mode] = Registry("mode")


def register_mode(mode: Mode) -> Mode:
    """Add a mode to the registry (name must be new)."""
    return MODES.add(mode.name, mode)


for _mode in (
    Mode("sync", "sync", False, "baseline", "sync client in a plain thread, no event loop", _run_sync),
    Mode("async", "async", True, "correct", "await the AsyncClient's call", _run_async),
    Mode("blocking", "sync", True, "bug", "sync client called inside a coroutine on the loop",
         _run_blocking),
    Mode("to_thread", "sync", True, "correct", "sync client through await asyncio.to_thread",
         _run_to_thread),
    Mode("await_sync", "sync", True, "bug", "await on the sync client's result", _run_await_sync),
    Mode("unawaited", "async", True, "bug", "the AsyncClient's call without await", _run_unawaited),
):
    register_mode(_mode)


def get_mode(name: str) -> Mode:
    """``get_mode("to_thread")``; an unknown name raises UsageError listing the known ones."""
    return MODES.get_or_fail(name)


def resolve_modes(modes: str | Mode | list[str | Mode] | tuple[str | Mode, ...] | None) -> list[Mode]:
    """``None`` → all six; ``"sync,blocking"`` or ``["sync", "blocking"]`` → those, in order."""
    if modes is None:
        return list(MODES.values())
    if isinstance(modes, (str, Mode)):
        modes = [m.strip() for m in modes.split(",")] if isinstance(modes, str) else [modes]
    resolved = [m if isinstance(m, Mode) else get_mode(m) for m in modes]
    if not resolved:
        raise UsageError("no modes given", fix=f"pick some of: {', '.join(MODES)}")
    names = [m.name for m in resolved]
    if len(set(names)) != len(names):
        raise UsageError(f"a mode is listed twice in {names}", fix="list each mode once")
    return resolved


"""The mode registry and runners (pure parts; the real clients are exercised in test_diff)."""

from __future__ import annotations

import asyncio
import threading

import pytest

import kit
from kit.arena import arun_in_arena, run_in_arena, run_in_plain_thread
from kit.modes import (
    MODES,
    Mode,
    UnawaitedCoroutine,
    get_mode,
    register_mode,
    resolve_modes,
    settle_unawaited,
)


def test_six_modes_in_order_with_their_clients() -> None:
    assert list(MODES) == ["sync", "async", "blocking", "to_thread", "await_sync", "unawaited"]
    assert {m.name: m.client for m in MODES.values()} == {
        "sync": "sync", "async": "async", "blocking": "sync", "to_thread": "sync",
        "await_sync": "sync", "unawaited": "async"}
    assert [m.name for m in MODES.values() if not m.on_loop] == ["sync"]


def test_resolve_modes() -> None:
    assert [m.name for m in resolve_modes(None)] == list(MODES)
    assert [m.name for m in resolve_modes("sync, blocking")] == ["sync", "blocking"]
    assert [m.name for m in resolve_modes(["to_thread", MODES["async"]])] == ["to_thread", "async"]
    with pytest.raises(kit.UsageError, match="unknown mode 'thread'.*to_thread"):
        resolve_modes("thread")
    with pytest.raises(kit.UsageError, match="listed twice"):
        resolve_modes("sync,sync")
    with pytest.raises(kit.UsageError, match="no modes"):
        resolve_modes([])
    with pytest.raises(kit.UsageError, match="already registered"):
        register_mode(Mode("sync", "sync", False, "baseline", "", lambda op, c: op(c)))
    assert get_mode("await_sync").verdict == "bug"


async def _coroutine_result() -> int:
    return 1


def test_unawaited_keeps_the_never_awaited_warning() -> None:
    result = settle_unawaited(lambda: _coroutine_result())
    assert isinstance(result, UnawaitedCoroutine)
    assert result.warning == "coroutine '_coroutine_result' was never awaited"
    assert not result.closed_by_kit
    assert repr(result) == "<coroutine _coroutine_result never awaited>"
    assert settle_unawaited(lambda: 5) == 5


def test_a_coroutine_held_elsewhere_is_closed_by_the_kit() -> None:
    held = []

    def call() -> object:
        coro = _coroutine_result()
        held.append(coro)
        return coro
    result = settle_unawaited(call)
    assert result.closed_by_kit and result.warning is None
    assert held[0].cr_frame is None  # closed: no warning can leak when it is collected


class _Client:
    """A stand-in client for the pure runner logic: ``op(client)`` gives ``client.value``."""

    def __init__(self, value: object) -> None:
        self.value = value


def test_runners_in_an_arena() -> None:
    op = lambda c: c.value

    async def coro_value(c: _Client) -> object:
        return c.value

    async def main() -> dict[str, object]:
        out: dict[str, object] = {}
        out["blocking"] = await MODES["blocking"].run(op, _Client(1))
        out["to_thread"] = await MODES["to_thread"].run(op, _Client(2))
        out["async"] = await MODES["async"].run(lambda c: coro_value(c), _Client(3))
        out["unawaited"] = await MODES["unawaited"].run(lambda c: coro_value(c), _Client(4))
        try:
            await MODES["await_sync"].run(op, _Client(5))
        except TypeError as exc:
            out["await_sync"] = str(exc)
        return out

    out = run_in_arena(main)
    assert out["blocking"] == 1 and out["to_thread"] == 2 and out["async"] == 3
    assert isinstance(out["unawaited"], UnawaitedCoroutine)
    assert out["await_sync"] == "object int can't be used in 'await' expression"
    assert MODES["sync"].run(op, _Client(6)) == 6


async def test_arena_runs_beside_a_running_loop() -> None:
    outer = asyncio.get_running_loop()

    async def inner() -> tuple[bool, str]:
        return asyncio.get_running_loop() is not outer, threading.current_thread().name

    other_loop, name = await arun_in_arena(inner, name="kit-arena-test")
    assert other_loop and name == "kit-arena-test"
    assert run_in_arena(inner)[0]  # the sync form from a thread that has a running loop


def test_arena_hands_back_errors_and_closes_its_loop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def fails() -> None:
        loops.append(asyncio.get_running_loop())
        asyncio.get_running_loop().create_task(asyncio.sleep(10))  # a leftover task
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_in_arena(fails)
    assert loops[0].is_closed()
    with pytest.raises(RuntimeError, match="no loop here"):
        run_in_plain_thread(lambda: (_ for _ in ()).throw(RuntimeError("no loop here")))

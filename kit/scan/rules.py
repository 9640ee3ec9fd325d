"""The scan rules, registered on ``RULES``: each checks walker events once provenance is known.

    from kit.scan.model import RULES
    [r.code for r in RULES]   # ['KIT101', ..., 'KIT108']

A check is ``check(event, ctx) -> Iterable[Hit]``; ``ctx`` is a kit.scan.engine.CheckContext
(the resolver, the module's facts, and ``where(line)`` to name a line in messages).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from kit.scan import sdk
from kit.scan.model import NOTEBOOKS, RULES, Rule
from kit.scan.walker import Event

_NOT_AWAITED = frozenset({"expr", "use", "pending", "return_async"})
_TYPEERROR = "TypeError: object APIResponse can't be used in 'await' expression"


class Hit(NamedTuple):
    line: int
    col: int
    message: str
    confidence: str = "high"


def _via(kind: Any) -> str:
    return f" (from {kind.via})" if kind.via else ""


def _await_sync(event: Event, ctx: Any) -> Iterator[Hit]:
    kind = ctx.resolver.kind(event.value)
    if kind.tag == "sync_result":
        yield Hit(event.line, event.col,
                  f"`await {event.text}` awaits the result of a sync supabase call: the client "
                  f"is a sync Client{_via(kind)}, so this raises {_TYPEERROR}")
    elif kind.tag == "sync_client":
        yield Hit(event.line, event.col,
                  f"`await {event.text}` awaits a sync Client{_via(kind)}, which is not awaitable "
                  "(TypeError: object Client can't be used in 'await' expression)")


def _blocking(event: Event, ctx: Any) -> str:
    """"high" if the op is sync I/O on a known sync Client, "low" if the client only looks
    like a supabase client by its name, "" otherwise."""
    kind = ctx.resolver.kind(event.value)
    if kind.tag == "sync_client":
        return "high" if sdk.blocks_when_sync(event.op) else ""
    if kind.tag in ("unknown", "ns", "inst") and sdk.looks_like_supabase(event.client_text):
        return "low" if sdk.blocks_when_sync(event.op) else ""
    return ""


def _sync_in_async(event: Event, ctx: Any) -> Iterator[Hit]:
    if not event.in_async or event.usage == "await":
        return  # awaited: KIT101 says it (or it is an AsyncClient, correctly awaited)
    confidence = _blocking(event, ctx)
    call = event.call_text
    if confidence == "high":
        kind = ctx.resolver.kind(event.value)
        yield Hit(event.line, event.col,
                  f"sync supabase call `{call}` inside `async def {event.func}` blocks the event "
                  f"loop for the whole request: `{event.client_text}` is a sync Client{_via(kind)}")
    elif confidence == "low":
        yield Hit(event.line, event.col,
                  f"`{call}` inside `async def {event.func}` is not awaited, and "
                  f"`{event.client_text}` looks like a supabase client of unknown origin: a sync "
                  "Client blocks the event loop here, an AsyncClient call would never run", "low")


def _not_awaited(event: Event, ctx: Any) -> Iterator[Hit]:
    if event.usage not in _NOT_AWAITED:
        return
    if event.type == "op":
        kind = ctx.resolver.kind(event.value)
        if kind.tag == "async_client":
            yield Hit(event.line, event.col,
                      f"async supabase call `{event.call_text}` is never awaited: "
                      f"`{event.client_text}` is an AsyncClient{_via(kind)}, so this is a coroutine "
                      "that sends no request ('coroutine' object has no attribute 'data')")
        return
    callee = ctx.resolver.kind(event.value)
    if callee.tag == "lib" and callee.ref in sdk.ASYNC_FACTORIES:
        yield Hit(event.line, event.col,
                  f"`{event.text}(…)` is never awaited: it returns a coroutine, not an AsyncClient")


def _async_def_without_await(event: Event, ctx: Any) -> Iterator[Hit]:
    if event.has_await:
        return
    found = [(op, _blocking(op, ctx)) for op in event.ops if op.usage != "await"]
    for wanted in ("high", "low"):
        for op, confidence in found:
            if confidence == wanted:
                yield Hit(event.line, event.col,
                          f"`async def {event.func}` awaits nothing yet does blocking supabase I/O "
                          f"(`{op.call_text}` at {ctx.where(op.line)}): it runs start "
                          "to finish on the event loop; `await` on it buys nothing", wanted)
                return


def _loop_in_loop(event: Event, ctx: Any) -> Iterator[Hit]:
    callee = ctx.resolver.kind(event.value)
    if event.op != "run_until_complete" and not (callee.tag == "lib" and callee.ref == "asyncio.run"):
        return
    name = "loop.run_until_complete" if event.op == "run_until_complete" else "asyncio.run"
    if event.in_async:
        yield Hit(event.line, event.col,
                  f"`{event.text}(…)` inside `async def {event.func}`: the event loop is already "
                  f"running, so {name} raises RuntimeError")
    elif ctx.facts.is_notebook and not ctx.nest_asyncio_applied:
        yield Hit(event.line, event.col,
                  f"`{event.text}(…)` in a notebook: Jupyter already runs an event loop in the "
                  f"kernel, so {name} raises RuntimeError ('cannot be called from a running "
                  "event loop')")


def _sleep_not_awaited(event: Event, ctx: Any) -> Iterator[Hit]:
    callee = ctx.resolver.kind(event.value)
    if callee.tag == "lib" and callee.ref in sdk.SLEEPS and event.usage in _NOT_AWAITED:
        yield Hit(event.line, event.col,
                  f"`{event.text}(…)` is never awaited: it creates a coroutine and does not sleep")


def _httpx_mismatch(event: Event, ctx: Any) -> Iterator[Hit]:
    if "httpx_client" not in event.keywords:
        return
    callee = ctx.resolver.kind(event.value)
    if callee.tag != "lib":
        return
    makes = sdk.LIBRARY[callee.ref].makes
    given = ctx.resolver.kind(event.keywords["httpx_client"]).tag
    if makes == "async_options" and given == "httpx_sync":
        yield Hit(event.line, event.col,
                  "a sync `httpx.Client` given to AsyncClientOptions(httpx_client=...): every "
                  "async request fails ('await' on a Response: TypeError)")
    elif makes == "sync_options" and given == "httpx_async":
        yield Hit(event.line, event.col,
                  "an `httpx.AsyncClient` given to sync ClientOptions(httpx_client=...): every "
                  "sync request fails (the sync client gets coroutines, not responses)")


def _to_thread_async(event: Event, ctx: Any) -> Iterator[Hit]:
    callee = ctx.resolver.kind(event.value)
    if callee.tag == "lib" and callee.ref in sdk.TO_THREAD:
        target = event.args[0] if event.args else None
    elif event.op == "run_in_executor":
        target = event.args[1] if len(event.args) > 1 else None
    else:
        return
    kind = ctx.resolver.kind(target)
    what = ""
    if (kind.tag == "fn" and kind.is_async) or (
            kind.tag == "lib" and sdk.LIBRARY[kind.ref].kind == "afunc"):
        what = f"an async function (`{kind.via}`)"
    elif kind.tag == "coro":
        what = "a coroutine"
    elif kind.tag == "fn" and kind.inner is not None and kind.inner.tag == "coro":
        what = "a function that returns a coroutine"
    if what:
        yield Hit(event.line, event.col,
                  f"`{event.text}(…)` is given {what}: the worker thread only makes a coroutine "
                  "and nothing awaits it, so the work never runs")


_TO_THREAD_FIX = "wrap it: `await asyncio.to_thread(lambda: <the call>)`"
for _rule in (
    Rule("KIT101", "await-sync-supabase-call", "await on a sync supabase client call",
         "drop the `await` and run the call off the loop "
         "(`await asyncio.to_thread(lambda: <the call>)`), or build the client with "
         "`await acreate_client(...)` "
         "and keep the `await`", NOTEBOOKS["logging"], "error", ("await",), _await_sync),
    Rule("KIT102", "sync-supabase-call-in-async", "sync supabase call inside async def",
         f"{_TO_THREAD_FIX}, or use an AsyncClient (`await acreate_client(...)`) and `await` "
         "the call", NOTEBOOKS["storage"], "warning", ("op",), _sync_in_async),
    Rule("KIT103", "async-supabase-call-not-awaited", "async supabase call never awaited",
         "`await` it (or hand it to asyncio.gather / asyncio.create_task)", NOTEBOOKS["general"],
         "error", ("op", "libcall"), _not_awaited),
    Rule("KIT104", "async-def-without-await-blocks", "async def that awaits nothing but blocks",
         "make it a plain `def` and call it with `await asyncio.to_thread(fn, ...)`, or await "
         "its I/O (`await asyncio.to_thread(lambda: ...)` or an AsyncClient call)",
         NOTEBOOKS["storage"], "warning", ("async_def",), _async_def_without_await),
    Rule("KIT105", "loop-run-in-running-loop", "asyncio.run / run_until_complete in a running loop",
         "`await` the coroutine instead (a notebook cell allows top-level `await`)",
         NOTEBOOKS["general"], "error", ("libcall",), _loop_in_loop),
    Rule("KIT106", "sleep-not-awaited", "asyncio.sleep(...) never awaited",
         "`await asyncio.sleep(...)` in async code; `time.sleep(...)` in sync code",
         NOTEBOOKS["general"], "error", ("libcall",), _sleep_not_awaited),
    Rule("KIT107", "httpx-client-mismatch", "sync/async httpx client given to the wrong options",
         "give `httpx.AsyncClient(...)` to AsyncClientOptions and `httpx.Client(...)` to "
         "ClientOptions", NOTEBOOKS["general"], "error", ("libcall",), _httpx_mismatch),
    Rule("KIT108", "to-thread-given-async", "to_thread / run_in_executor given async work",
         "`await` the async call directly; to_thread and run_in_executor are for blocking sync "
         "functions", NOTEBOOKS["general"], "error", ("libcall",), _to_thread_async),
):
    RULES.register(_rule)

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
from kit.scan.reach import chain_text
from kit.scan.walker import AWAIT, EXECUTOR_ARG, Event

_NOT_AWAITED = frozenset({"expr", "use", "pending", "return_async"})


class Hit(NamedTuple):
    line: int
    col: int
    message: str
    confidence: str = "high"
    edit: str = ""  # the safe rewrite kit scan --fix applies: "drop_await" | "to_thread" | ... (kit.scan.fix)
    end: tuple[int, int] = (0, 0)  # (end line, end col) of the node the edit rewrites
    related: tuple[int, ...] = ()  # lines of the findings this one summarises (KIT104)
    fix: str = ""  # this finding's own fix (the form --fix writes), instead of the rule's


def _type_error(name: str) -> str:
    names = [n.strip() for n in name.split("|")]
    shown = " or ".join(f"object {'NoneType' if n == 'None' else n}" for n in names)
    return f"TypeError: {shown} can't be used in 'await' expression"


def _via(kind: Any) -> str:
    return f" (from {kind.via})" if kind.via else ""


def _await_sync(event: Event, ctx: Any) -> Iterator[Hit]:
    if event.op:
        return  # an awaited request builder: KIT109
    kind = ctx.resolver.kind(event.value)
    edit = "drop_await" if event.in_async or ctx.facts.is_notebook else ""
    if kind.tag == "sync_result":
        yield Hit(event.line, event.col,
                  f"`await {event.text}` awaits the result of a sync supabase call: the client "
                  f"is a sync Client{_via(kind)}, so this raises {_type_error(kind.ref)}",
                  edit=edit, end=event.end)
    elif kind.tag == "sync_client":
        yield Hit(event.line, event.col,
                  f"`await {event.text}` awaits a sync Client{_via(kind)}, which is not awaitable "
                  f"({_type_error('Client')})", edit=edit, end=event.end)


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
    if not event.in_async:
        return
    if event.type != "op":
        yield from _helper_in_async(event, ctx)
        return
    if event.usage == "await":
        return  # awaited: KIT101 says it (or it is an AsyncClient, correctly awaited)
    confidence = _blocking(event, ctx)
    call = event.call_text
    if confidence == "high":
        kind = ctx.resolver.kind(event.value)
        yield Hit(event.line, event.col,
                  f"sync supabase call `{call}` inside `async def {event.func}` blocks the event "
                  f"loop for the whole request: `{event.client_text}` is a sync Client{_via(kind)}",
                  *_off_loop(event, call))
    elif confidence == "low":
        yield Hit(event.line, event.col,
                  f"`{call}` inside `async def {event.func}` is not awaited, and "
                  f"`{event.client_text}` looks like a supabase client of unknown origin: a sync "
                  "Client blocks the event loop here, an AsyncClient call would never run", "low")


def _off_loop(event: Event, call: str) -> tuple[str, str, tuple[int, int], tuple[()], str]:
    """(confidence, edit, end, related, fix) of a KIT102 that --fix moves to a thread: the
    fix shows the form it writes (kit.scan.values.thread_form)."""
    if event.thread_form == "lambda":
        edit, written = "to_thread_lambda", f"lambda: {call}"
        why = " (the whole call: a builder chain evaluated on the loop blocks it too)"
    else:
        edit, why = "to_thread", ""
        written = call.removesuffix("(…)") + (", …" if event.thread_form == "args" else "")
    fix = (f"run it in a worker thread: `await asyncio.to_thread({written})`{why}, or use an "
           "AsyncClient (`await acreate_client(...)`) and `await` the call")
    return "high", edit, event.end, (), fix


def _helper_in_async(event: Event, ctx: Any) -> Iterator[Hit]:
    """A sync helper of the user's, called on the loop, that does sync supabase I/O below."""
    if event.usage == EXECUTOR_ARG:
        return
    callee = ctx.reach.callee(event)
    if callee.tag != "fn" or callee.ref is None or callee.is_async:
        return
    steps = ctx.reach.blocking(callee.ref)
    if not steps:
        return
    if event.usage == AWAIT and ctx.resolver.kind(("call", event.value)).tag in (
            "sync_result", "sync_client", "coro"):
        return  # KIT101 reports the await (its fix then leads here), or it returns a coroutine
    chain = chain_text(((ctx.facts.display, event.line, f"{event.text}()"), *steps))
    awaited = (" (and `await` on its result fails: it is not awaitable)"
               if event.usage == AWAIT else "")
    yield Hit(event.line, event.col,
              f"`{event.text}(…)` inside `async def {event.func}` is a sync function that does "
              f"blocking supabase I/O, so it blocks the event loop{awaited}: {chain}",
              *_off_loop(event, f"{event.text}(…)"))


def _not_awaited(event: Event, ctx: Any) -> Iterator[Hit]:
    if event.usage not in _NOT_AWAITED:
        return
    edit = "add_await" if event.in_async and event.usage != "pending" else ""
    if event.type == "op":
        kind = ctx.resolver.kind(event.value)
        if kind.tag == "async_client":
            yield Hit(event.line, event.col,
                      f"async supabase call `{event.call_text}` is never awaited: "
                      f"`{event.client_text}` is an AsyncClient{_via(kind)}, so this is a coroutine "
                      "that sends no request ('coroutine' object has no attribute 'data')",
                      edit=edit, end=event.end)
        return
    if event.type == "call" or event.type == "libcall":
        callee = ctx.reach.callee(event)
        if (callee.tag == "fn" and callee.is_async and callee.ref is not None
                and ctx.reach.touches_supabase(callee.ref)):
            where = f"{ctx.reach.display(callee.ref[0])}:{ctx.reach.function(callee.ref).line}"
            yield Hit(event.line, event.col,
                      f"`{event.text}(…)` is never awaited: `async def {callee.ref[1]}` ({where}) "
                      "does supabase I/O, and calling it without `await` only makes a coroutine, "
                      "so that I/O never runs (RuntimeWarning: coroutine ... was never awaited)",
                      edit=edit, end=event.end)
            return
    if event.type != "libcall":
        return
    callee = ctx.resolver.kind(event.value)
    if callee.tag == "lib" and callee.ref in sdk.ASYNC_FACTORIES:
        yield Hit(event.line, event.col,
                  f"`{event.text}(…)` is never awaited: it returns a coroutine, not an AsyncClient",
                  edit=edit, end=event.end)


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
                          "to finish on the event loop; `await` on it buys nothing", wanted,
                          related=tuple(o.line for o, c in found if c))
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


# (what the callee makes, what it was given) -> the message; {what} names the given object,
# {call} the callee
_MISMATCHES = {
    ("async_client", "sync_options"):
        "sync `{what}` given to `{call}(…)`: the async client's auth then keeps its session in "
        "the sync storage, so `await client.auth.get_session()` raises TypeError: object "
        "NoneType can't be used in 'await' expression; use AsyncClientOptions(...)",
    ("sync_client", "async_options"):
        "`{what}` given to the sync `{call}(…)`: the sync auth client calls the async storage "
        "without awaiting it, so sessions are silently lost (RuntimeWarning: coroutine "
        "'AsyncMemoryStorage.get_item' was never awaited); use ClientOptions(...)",
    ("async_options", "httpx_sync"):
        "a sync `httpx.Client` given to AsyncClientOptions(httpx_client=...): every async "
        "request fails ('await' on a Response: TypeError)",
    ("sync_options", "httpx_async"):
        "an `httpx.AsyncClient` given to sync ClientOptions(httpx_client=...): every sync "
        "request fails (the sync client gets coroutines, not responses)",
}


def _options_mismatch(event: Event, ctx: Any) -> Iterator[Hit]:
    callee = ctx.resolver.kind(event.value)
    if callee.tag != "lib":
        return
    makes = sdk.LIBRARY[callee.ref].makes
    if makes in ("sync_client", "async_client"):
        given = event.keywords.get("options", event.args[2] if len(event.args) > 2 else None)
    else:
        given = event.keywords.get("httpx_client")
    kind = ctx.resolver.kind(given)
    message = _MISMATCHES.get((makes, kind.tag))
    if message:
        yield Hit(event.line, event.col, message.format(what=kind.via or "options", call=event.text))


def _await_builder(event: Event, ctx: Any) -> Iterator[Hit]:
    if not event.op:
        return
    kind = ctx.resolver.kind(event.value)
    if kind.tag not in ("sync_client", "async_client"):
        return
    prefix = "Sync" if kind.tag == "sync_client" else "Async"
    if event.op == "method":
        what, name = "the `execute` method itself (it is never called)", "method"
    else:
        name = f"{prefix}{event.op}"
        what = "a request builder: nothing sends the request until `.execute()`"
    fix = "execute" if kind.tag == "async_client" else ""
    yield Hit(event.line, event.col,
              f"`await {event.text}` awaits {what}; `{event.client_text}` is "
              f"{'a sync Client' if prefix == 'Sync' else 'an AsyncClient'}{_via(kind)}, so this "
              f"raises {_type_error(name)}", edit=fix, end=event.end)


def _client_per_request(event: Event, ctx: Any) -> Iterator[Hit]:
    callee = ctx.resolver.kind(event.value)
    made = ctx.resolver.call(callee)
    made = made.inner if made.tag == "coro" and made.inner is not None else made
    if made.tag not in ("sync_client", "async_client") or not event.owner:
        return
    ref = (ctx.facts.modid, event.owner)
    func = ctx.reach.function(ref)
    closed = {name.split(".", 1)[0] for name in func.closed} if func is not None else set()
    kept = event.usage in ("stored", "with") or (
        event.usage == "stored_self" and not event.owner.endswith(".__init__"))
    if (func is None or kept
            or event.client_text in func.cached_names or event.client_text in closed):
        return  # cached on a long-lived object, closed, or a `with` block: not a leak
    path = ctx.reach.per_request(ref)
    if not path:
        return
    yield Hit(event.line, event.col,
              f"`{event.text}(…)` builds a new supabase client on every request "
              f"({chain_text(path)} → here) and nothing closes it: each one keeps its own "
              "connection pool open until the process runs out of file descriptors "
              "(OSError: [Errno 24] Too many open files)")


def _to_thread_async(event: Event, ctx: Any) -> Iterator[Hit]:
    callee = ctx.resolver.kind(event.value)
    if callee.tag == "lib" and callee.ref in sdk.TO_THREAD:
        first = 0
    elif event.op == "run_in_executor":
        first = 1
    else:
        return
    target = event.args[first] if len(event.args) > first else None
    spelled = event.arg_texts[first] if len(event.arg_texts) > first else ""
    passed = "…" if len(event.args) > first + 1 or event.keywords else ""
    kind = ctx.resolver.kind(target)
    # --fix awaits the call itself where the result was awaited (keywords of run_sync and
    # run_in_executor are not the function's, so those stay)
    direct = ("await_directly" if event.usage == AWAIT and not event.starred
              and (event.in_async or ctx.facts.is_notebook)
              and (callee.tag == "lib" and callee.ref == "asyncio.to_thread" or not event.keywords)
              else "")
    if isinstance(target, tuple) and target[0] == "bound" and kind.is_async:
        client = ctx.resolver.kind(target[1])
        method = target[3].rsplit(".", 1)[-1]
        yield Hit(event.line, event.col,
                  f"`{event.text}(…)` is given `{target[3]}`, an async method: the client is an "
                  f"AsyncClient{_via(client)}, so the worker thread only calls it to make a "
                  "coroutine and nothing awaits it: the request is never sent (RuntimeWarning: "
                  f"coroutine '….{method}' was never awaited)", edit=direct, end=event.end,
                  fix=f"await the call directly, no thread needed: `await {target[3]}({passed})`")
        return
    what, how = "", "`await` the async call directly"
    if (kind.tag == "fn" and kind.is_async) or (
            kind.tag == "lib" and sdk.LIBRARY[kind.ref].kind == "afunc"):
        what = f"an async function (`{kind.via}`)"
        how = f"await it directly: `await {spelled}({passed})`"
    elif kind.tag == "coro":
        what, direct = "a coroutine", ""
        how = "`await` that coroutine directly"
    elif kind.tag == "fn" and kind.inner is not None and kind.inner.tag == "coro":
        what = "a function that returns a coroutine"
        how = "await the call it makes directly (`await <the call>`, no lambda)"
        lambda_of_call = target is not None and target[0] == "lambda" and target[1] is not None \
            and target[1][0] in ("op", "call") and not passed
        direct = direct if lambda_of_call else ""
    if what:
        yield Hit(event.line, event.col,
                  f"`{event.text}(…)` is given {what}: the worker thread only makes a coroutine "
                  "and nothing awaits it, so the work never runs", edit=direct, end=event.end,
                  fix=f"{how}, no thread needed; to_thread and run_in_executor are for "
                      "blocking sync functions")


_TO_THREAD_FIX = ("run the whole call in a worker thread: `await asyncio.to_thread(lambda: "
                  "<the call>)` (`to_thread(f, *args)` when `f` is a plain name or attribute "
                  "path and no argument calls anything: the form --fix writes)")
for _rule in (
    Rule("KIT101", "await-sync-supabase-call", "await on a sync supabase client call",
         "drop the `await` and run the call off the loop "
         "(`await asyncio.to_thread(lambda: <the call>)`), or build the client with "
         "`await acreate_client(...)` "
         "and keep the `await`", NOTEBOOKS["logging"], "error", ("await",), _await_sync),
    Rule("KIT102", "sync-supabase-call-in-async", "sync supabase call inside async def",
         f"{_TO_THREAD_FIX}, or use an AsyncClient (`await acreate_client(...)`) and `await` "
         "the call", NOTEBOOKS["storage"], "warning", ("op", "call", "libcall"), _sync_in_async),
    Rule("KIT103", "async-supabase-call-not-awaited", "async supabase call never awaited",
         "`await` it (or hand it to asyncio.gather / asyncio.create_task)", NOTEBOOKS["general"],
         "error", ("op", "libcall", "call"), _not_awaited),
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
    Rule("KIT107", "client-options-mismatch", "sync/async options or httpx client of the wrong kind",
         "give `AsyncClientOptions(httpx_client=httpx.AsyncClient(...))` to `acreate_client` and "
         "`ClientOptions(httpx_client=httpx.Client(...))` to `create_client`",
         NOTEBOOKS["general"], "error", ("libcall",), _options_mismatch),
    Rule("KIT108", "to-thread-given-async", "to_thread / run_in_executor given async work",
         "await the call directly (`await sb.table(...).execute()`), no thread needed; to_thread "
         "and run_in_executor are for blocking sync functions", NOTEBOOKS["general"], "error",
         ("libcall",), _to_thread_async),
    Rule("KIT109", "await-request-builder", "await on a request builder without .execute()",
         "end the chain with `.execute()` and await that (on an AsyncClient); on a sync Client "
         "drop the `await`", NOTEBOOKS["logging"], "error", ("await",), _await_builder),
    Rule("KIT110", "client-per-request", "supabase client built per request and never closed",
         "build one client at startup (module level, a lifespan / startup hook into "
         "`app.state`, or an `lru_cache`d provider) and share it", NOTEBOOKS["general"],
         "warning", ("libcall",), _client_per_request),
):
    RULES.register(_rule)

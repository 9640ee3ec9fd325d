"""Explainers for sync/async misuse: await on a sync result, un-awaited coroutines, loops.

Stalls of the event loop are read from their samples in ``kit.explain.rules_stall``.
"""

from __future__ import annotations

import inspect
import re

from kit.explain.calls import Call, call_of
from kit.explain.case import Case
from kit.explain.model import NOTEBOOKS, Evidence, Explanation, Fix
from kit.explain.registry import register

_AWAIT_SYNC = re.compile(r"object (\w+)(?:\[[^\]]*\])? can't be used in 'await' expression")
_NOT_A_COROUTINE_MYTH = ("(The AsyncClient's execute() is `async def` and must be awaited; the "
                         "object awaited here came from a sync Client, whatever its name says.)")


def await_on_sync_match(case: Case) -> re.Match[str] | None:
    """``object X can't be used in 'await' expression`` where X is a sync client's result (not a
    request builder, not a None awaited inside supabase_auth: those are other mistakes)."""
    match = case.find(_AWAIT_SYNC)
    if match is None or match.group(1).endswith("RequestBuilder"):
        return None
    if match.group(1) == "NoneType" and any(raised_in(e, "supabase_auth") for e in case.exceptions):
        return None
    return match


def raised_in(exc: BaseException, package: str) -> bool:
    """Whether the innermost frame of ``exc``'s traceback is inside ``package``."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"/{package}/" in tb.tb_frame.f_code.co_filename.replace("\\", "/")


@register("await_on_sync_result")
def await_on_sync_result(case: Case) -> Explanation | None:
    match = await_on_sync_match(case)
    if match is None:
        return None
    kind = match.group(1)
    line = case.line_of(match)
    sent = [ex for ex in case.exchanges if ex.mode in (None, "await_sync")]
    ran = (" The request itself was sent and answered before the await failed (see the exchanges)."
           if sent else "")
    if kind == "Response":
        return Explanation(
            "await_on_sync_result", "A sync httpx.Client inside an async supabase client",
            "The AsyncClient was built with AsyncClientOptions(httpx_client=httpx.Client(...)). "
            "Its sub-clients call the sync httpx client, which returns a Response, and the "
            "library then awaits it.",
            Evidence((line,), tuple(sent[:5])),
            Fix("AsyncClientOptions(httpx_client=httpx.Client())",
                "AsyncClientOptions(httpx_client=httpx.AsyncClient())",
                "An AsyncClient needs an httpx.AsyncClient; a sync Client needs an httpx.Client."),
            0.95, NOTEBOOKS["start"])
    call = call_of(sent[0]) if sent else Call()
    if not call.known:
        call = Call.example("chats", '.eq("id", chat_id)', ".single()")
    what = ("maybe_single() on a sync Client found no row and returned None"
            if kind == "NoneType" else f"call (execute(), storage...) returned a {kind}")
    return Explanation(
        "await_on_sync_result", f"`await` on a sync client's result ({kind})",
        f"The client is a sync `Client` (create_client). Its {what} immediately, after the "
        f"HTTP request already ran; `await` on that value raises TypeError.{ran} {_NOT_A_COROUTINE_MYTH}",
        Evidence((line,), tuple(sent[:5])),
        Fix('supabase = create_client(url, key)        # sync, named async_supabase\n'
            f'res = await {call.code(client="supabase")}',
            'supabase = await acreate_client(url, key)  # AsyncClient: execute() is a coroutine\n'
            f'res = await {call.code(client="supabase")}',
            "Either keep the await and build the client with acreate_client (right for async "
            "code), or drop the await on the sync client; that works but blocks the event loop "
            "for the whole request (see event_loop_blocked)."),
        0.95, NOTEBOOKS["llm"])


_CLIENT_ATTRIBUTES = ("table", "from_", "auth", "storage", "rpc", "schema", "functions",
                      "postgrest", "realtime", "channel")
_UNAWAITED = re.compile(r"'coroutine' object (?:has no attribute '(\w+)'|is not subscriptable|"
                        r"is not iterable)|coroutine '([\w.]+)' was never awaited|"
                        r"coroutine ([\w.<>]+) \(never awaited\)")


@register("coroutine_never_awaited")
def coroutine_never_awaited(case: Case) -> Explanation | None:
    match = case.find(_UNAWAITED)
    coroutines = [r for r in case.results if inspect.iscoroutine(r)]
    if match is None and not coroutines:
        return None
    if match is not None and match.group(1) in _CLIENT_ATTRIBUTES:
        return None  # acreate_client(...) itself was not awaited: rules_misuse
    lines = [case.line_of(match)] if match else []
    lines += [f"a {type(c).__name__} {c.__qualname__} was returned, not a result" for c in coroutines]
    if case.exchanges or "exchanges" in case.facts:
        lines.append(f"{len(case.exchanges)} exchange(s) captured; an un-awaited execute() sends "
                     "no request at all")
    return Explanation(
        "coroutine_never_awaited", "An async call was not awaited",
        "The client is an AsyncClient: execute() returns a coroutine. Without `await` nothing "
        "runs: no HTTP request is sent, the result has no .data, and Python warns "
        "\"coroutine ... was never awaited\" when the coroutine is garbage-collected.",
        Evidence(tuple(lines)),
        Fix('res = client.table("llm_usage").insert(row).execute()\nprint(res.data)',
            'res = await client.table("llm_usage").insert(row).execute()\nprint(res.data)',
            "Await every AsyncClient call (storage's get_public_url too)."),
        0.95, NOTEBOOKS["start"])


_RUN_IN_LOOP = re.compile(r"asyncio\.run\(\) cannot be called from a running event loop|"
                          r"This event loop is already running")


@register("asyncio_run_in_running_loop")
def asyncio_run_in_running_loop(case: Case) -> Explanation | None:
    match = case.find(_RUN_IN_LOOP)
    if match is None:
        return None
    return Explanation(
        "asyncio_run_in_running_loop", "asyncio.run() inside a running event loop (Jupyter)",
        "A Jupyter or papermill kernel already runs an event loop in the main thread, so "
        "asyncio.run() (or loop.run_until_complete) refuses to start another one there.",
        Evidence((case.line_of(match),)),
        Fix("result = asyncio.run(fetch_chats())", "result = await fetch_chats()   # top-level await "
            "works in a notebook cell",
            "In a script keep asyncio.run(). nest_asyncio is only for third-party sync code that "
            "calls asyncio.run itself; the kit's diff runs async modes in their own thread."),
        0.95, NOTEBOOKS["start"])


_LOOP_CLOSED = re.compile(r"Event loop is closed|attached to a different loop|"
                          r"bound to a different event loop|different event loop")


@register("event_loop_closed")
def event_loop_closed(case: Case) -> Explanation | None:
    match = case.find(_LOOP_CLOSED)
    if match is None:
        return None
    return Explanation(
        "event_loop_closed", "An AsyncClient used from a loop other than the one it was made in",
        "An AsyncClient's connection pool belongs to the event loop that first used it. Each "
        "asyncio.run() creates a new loop and closes it at the end, so a client kept in a global "
        "or a worker object and used again from the next asyncio.run() hits a closed or foreign "
        "loop.",
        Evidence((case.line_of(match),)),
        Fix("client = await acreate_client(url, key)   # in one asyncio.run(...)\n"
            "asyncio.run(process_queue(client))        # a second loop reuses it",
            "async def main():\n    client = await acreate_client(url, key)\n"
            "    while True:\n        await process_queue(client)\n\nasyncio.run(main())",
            "Create the AsyncClient inside the one long-lived loop that uses it."),
        0.85, NOTEBOOKS["memory"])

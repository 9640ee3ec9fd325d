"""Explainers for misuse of the async API and of results: acreate_client not awaited, a request
builder awaited, ``.execute()`` forgotten, sync ``ClientOptions`` given to ``acreate_client``,
``maybe_single()`` returning None.

Each rule matches the exception type together with the exact shape supabase-py gives it
(``'coroutine' object has no attribute 'table'``, ``object AsyncSelectRequestBuilder can't be
used in 'await' expression``) or the frame it was raised in, so its confidence is ``signature``.
"""

from __future__ import annotations

import re

from kit.explain.calls import Call, call_of, call_of_builder
from kit.explain.case import Case
from kit.explain.model import CONFIDENCE, NOTEBOOKS, Evidence, Explanation, Fix
from kit.explain.registry import register
from kit.explain.rules_async import _AWAIT_SYNC, _CLIENT_ATTRIBUTES, raised_in

_COROUTINE_AS_CLIENT = re.compile(r"'coroutine' object has no attribute '(\w+)'")
_BUILDER_USED_AS_RESULT = re.compile(
    r"'(\w*RequestBuilder\w*)' object (?:has no attribute '(\w+)'|is not subscriptable|"
    r"is not iterable)")
_JS_STYLE = re.compile(r"'(\w*APIResponse)' object has no attribute '(error|status|status_code|"
                       r"statusText|body)'")
_NONE_DATA = re.compile(r"'NoneType' object (?:has no attribute '(data|count)'|is not subscriptable)")


@register("acreate_client_not_awaited")
def acreate_client_not_awaited(case: Case) -> Explanation | None:
    match = case.find(_COROUTINE_AS_CLIENT)
    if match is None or match.group(1) not in _CLIENT_ATTRIBUTES:
        return None
    return Explanation(
        "acreate_client_not_awaited", "acreate_client(...) was not awaited",
        f"acreate_client is a coroutine function: without `await` it gives a coroutine, not an "
        f"AsyncClient, so `.{match.group(1)}` is looked up on the coroutine and fails before any "
        "request is sent. Python also warns \"coroutine 'acreate_client' was never awaited\".",
        Evidence((case.line_of(match),)),
        Fix('supabase = acreate_client(url, key)\nsupabase.table("chats").select("*")',
            'supabase = await acreate_client(url, key)   # inside async def, once at start-up\n'
            'res = await supabase.table("chats").select("*").execute()',
            "Await acreate_client once (e.g. in your app's startup) and keep the AsyncClient; "
            "in sync code use create_client instead."),
        CONFIDENCE["signature"], NOTEBOOKS["start"])


@register("await_on_builder")
def await_on_builder(case: Case) -> Explanation | None:
    match = case.find(_AWAIT_SYNC)
    if match is None or not match.group(1).endswith("RequestBuilder"):
        return None
    return Explanation(
        "await_on_builder", f"A request builder was awaited instead of .execute() ({match.group(1)})",
        f"`await` was put on the query builder ({match.group(1)}). postgrest's builders are not "
        "awaitable: only `.execute()` sends the request and returns a coroutine on an "
        "AsyncClient. Nothing was sent.",
        Evidence((case.line_of(match), f"{len(case.exchanges)} exchange(s) captured")),
        Fix('rows = await supabase.table("chats").select("*").eq("id", 1)',
            'res = await supabase.table("chats").select("*").eq("id", 1).execute()\nrows = res.data',
            "End every query with .execute() and await that."),
        CONFIDENCE["signature"], NOTEBOOKS["start"])


@register("execute_forgotten")
def execute_forgotten(case: Case) -> Explanation | None:
    match = case.find(_BUILDER_USED_AS_RESULT)
    builders = [r for r in case.results if type(r).__name__.endswith("RequestBuilder")]
    if match is None and not builders:
        return None
    name = match.group(1) if match else type(builders[0]).__name__
    lines = [case.line_of(match)] if match else [f"the result is a {name}, not an APIResponse"]
    call = call_of_builder(builders[0]) if builders else Call()
    call = call if call.known else Call.example("chats")
    return Explanation(
        "execute_forgotten", ".execute() was never called",
        f"The query was built but never run: the value is a {name}, which has no .data. "
        "No request was sent.",
        Evidence((*lines, f"{len(case.exchanges)} exchange(s) captured")),
        Fix(f'rows = {call.code(client="supabase", ending="")}.data',
            f'rows = {call.code(client="supabase")}.data\n'
            f'# AsyncClient: (await {call.code(client="supabase")}).data',
            "A query runs only when .execute() is called (and awaited on an AsyncClient)."),
        CONFIDENCE["signature"], NOTEBOOKS["start"])


@register("sync_options_to_async_client")
def sync_options_to_async_client(case: Case) -> Explanation | None:
    match = case.find(_AWAIT_SYNC)
    if match is None or match.group(1) != "NoneType":
        return None
    inside = [e for e in case.exceptions if raised_in(e, "supabase_auth")]
    if not inside:
        return None
    return Explanation(
        "sync_options_to_async_client", "Sync ClientOptions given to acreate_client",
        "acreate_client was given `ClientOptions` (the sync options). Their default session "
        "storage is a sync SyncMemoryStorage, whose get_item returns None; the async auth client "
        "awaits it and raises \"object NoneType can't be used in 'await' expression\" from "
        "inside supabase_auth. It has nothing to do with maybe_single().",
        Evidence((case.line_of(match), "raised inside supabase_auth/_async (the async auth "
                                        "client awaiting its session storage)")),
        Fix("from supabase import ClientOptions\n"
            "supabase = await acreate_client(url, key, options=ClientOptions(schema=\"public\"))",
            "from supabase import AsyncClientOptions\n"
            "supabase = await acreate_client(url, key, options=AsyncClientOptions(schema=\"public\"))",
            "An AsyncClient takes AsyncClientOptions; a sync Client takes ClientOptions."),
        CONFIDENCE["signature"], NOTEBOOKS["start"])


@register("maybe_single_none")
def maybe_single_none(case: Case) -> Explanation | None:
    match = case.find(_NONE_DATA)
    if match is None:
        return None
    singular = [ex for ex in case.exchanges if "vnd.pgrst.object" in (ex.request_header("accept")
                                                                         or "")]
    call = call_of(singular[0]) if singular else Call()
    call = (call if call.known else Call.example("chats", '.eq("id", chat_id)')).with_modifier(
        ".maybe_single()", replacing=".single()")
    lines = [case.line_of(match)]
    lines += [f"exchange #{ex.seq}: {ex.method} {ex.path} asked for one object → {ex.status}"
              for ex in singular[:2]]
    return Explanation(
        "maybe_single_none", "maybe_single() found no row and returned None",
        "maybe_single().execute() returns None (not a response with data=None) when no row "
        "matches, so `.data` on its result fails. The row does not exist, or row-level security "
        "hides it from the role used.",
        Evidence(tuple(lines), tuple(singular[:2])),
        Fix(f'row = {call.code(client="supabase")}.data',
            f'res = {call.code(client="supabase")}\n'
            'row = res.data if res is not None else None',
            "Check the result for None before reading .data."),
        # the one-object request in the capture proves it; the message alone is only likely
        CONFIDENCE["signature"] if singular else CONFIDENCE["circumstance"], NOTEBOOKS["llm"])


@register("error_attribute_on_response")
def error_attribute_on_response(case: Case) -> Explanation | None:
    match = case.find(_JS_STYLE)
    if match is None:
        return None
    return Explanation(
        "error_attribute_on_response", f"{match.group(1)} has no .{match.group(2)}: errors are "
                                       "raised, not returned",
        f"The code reads .{match.group(2)} on the result, as supabase-js returns "
        "{ data, error }. supabase-py returns an APIResponse with .data and .count only; a "
        "failed request raises postgrest.exceptions.APIError (with .code, .message, .details, "
        ".hint) instead of returning an error.",
        Evidence((case.line_of(match),)),
        Fix('res = supabase.table("chats").select("*").execute()\nif res.error:\n'
            '    log(res.error)',
            'from postgrest.exceptions import APIError\ntry:\n'
            '    res = supabase.table("chats").select("*").execute()\nexcept APIError as e:\n'
            '    log(e.code, e.message)',
            "Catch APIError (and StorageApiError, AuthApiError) where the JS code checked error."),
        CONFIDENCE["signature"], NOTEBOOKS["start"])


@register("auth_session_missing")
def auth_session_missing(case: Case) -> Explanation | None:
    errors = case.exceptions_named("AuthSessionMissingError")
    match = case.find(r"Auth session missing!")
    if not errors and match is None:
        return None
    return Explanation(
        "auth_session_missing", "No signed-in user on this client (Auth session missing)",
        "The call needs a user's session (update_user, refresh_session, reauthenticate, "
        "sign_out of a user...) but this client holds none: no sign-in happened on this client "
        "object, the session lives on another client or another process, or it was signed "
        "out. supabase_auth raises AuthSessionMissingError before sending anything.",
        Evidence((case.line_of(match) if match else "AuthSessionMissingError: Auth session "
                  "missing!", f"{len(case.exchanges)} exchange(s) captured")),
        Fix('supabase = create_client(url, anon_key)\nsupabase.auth.update_user({"data": {...}})',
            'supabase = create_client(url, anon_key)\n'
            'supabase.auth.sign_in_with_password({"email": email, "password": password})\n'
            'supabase.auth.update_user({"data": {...}})\n'
            "# or, on a server, with a user's access token: supabase.auth.get_user(jwt)",
            "Sign in on the client that makes the call (or set_session with stored tokens); on "
            "a server, act on behalf of a user with their JWT, not with a shared client."),
        CONFIDENCE["signature"], NOTEBOOKS["start"])

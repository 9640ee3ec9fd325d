"""Each fault effect through the real supabase-py postgrest clients, sync and async, from the
stack's middleware (server side) and from the client transport (client side).

Writes (POST) are used where postgrest would retry a GET (503, 520, network errors: 1+2+4 s);
``test_postgrest_retries_get_on_503`` is the one test that shows those retries.
Expected values observed with supabase 2.34.1 / postgrest 2.34.1.
Transports use ``verify=False``: the stack is plain http on loopback, and a verifying
transport loads the CA bundle (~0.1 s) for nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from supabase import AsyncClient, AsyncClientOptions, Client
from supabase.lib.client_options import SyncClientOptions

from kit.faults import FaultsClient, wrap_async, wrap_sync
from kit.targets import Target


def _norm(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<time>", text)


# postgrest re-sends GETs on network errors (1+2+4 s); off here, on in the retry test below
NO_RETRY: dict[str, Any] = {"postgrest_client_retry": False}
Outcome = tuple[str, Any, Any, str]  # type, code, message (or data), details


def _describe(exc: Exception) -> Outcome:
    return (f"{type(exc).__module__}.{type(exc).__qualname__}", getattr(exc, "code", None),
            _norm(str(getattr(exc, "message", exc))), _norm(str(getattr(exc, "details", ""))))


async def outcome(target: Target, flavour: str, op: Callable[[Any], Any],
                  rules: list[dict[str, Any]] | None = None, timeout: float = 5.0) -> Outcome:
    key = target.service_role_key or ""
    try:
        if flavour == "sync":
            sync_transport: httpx.BaseTransport = httpx.HTTPTransport(verify=False)
            with httpx.Client(transport=wrap_sync(sync_transport, rules) if rules else sync_transport,
                              timeout=timeout) as http:
                result = op(Client(target.url, key, SyncClientOptions(httpx_client=http, **NO_RETRY)))
        else:
            async_transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(verify=False)
            async with httpx.AsyncClient(transport=wrap_async(async_transport, rules) if rules else async_transport,
                                         timeout=timeout) as ahttp:
                result = await op(AsyncClient(target.url, key, AsyncClientOptions(httpx_client=ahttp,
                                                                                  **NO_RETRY)))
    except Exception as exc:  # noqa: BLE001 - the outcome under test is the exception
        return _describe(exc)
    data = result.data
    return "ok", type(data).__name__, _norm(data if isinstance(data, str) else repr(data)), ""


@pytest.fixture(scope="module")
def table(db_url: str) -> Iterator[str]:
    name = f"faults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'create table public."{name}" (id serial primary key, note text)')
        conn.execute(f'insert into public."{name}" (note) values (\'a\'), (\'b\')')
    yield name
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'drop table public."{name}"')


@pytest.fixture
def faults(stack: Target) -> Iterator[FaultsClient]:
    client = FaultsClient(stack)
    client.clear()
    yield client
    client.clear()


def insert(table: str) -> Callable[[Any], Any]:
    return lambda c: c.table(table).insert({"note": "x"}).execute()


def first_ids(table: str) -> Callable[[Any], Any]:
    return lambda c: c.table(table).select("id").order("id").limit(2).execute()


HTML = r"^<!DOCTYPE html>\n<html class=\"no-js\""
NGINX_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
CASES: dict[str, tuple[str, dict[str, Any], Callable[[str], Callable[[Any], Any]], dict[str, tuple[Any, ...]]]] = {
    # name: (method, effect, operation, {flavour: (type, code, message regex, details regex)})
    "html-200-select": ("GET", {"html_page": "cloudflare-520", "status": 200}, first_ids,
                        {"*": ("ok", "str", HTML + r".*Error code 520", r"^$")}),
    "html-200-insert": ("POST", {"html_page": "cloudflare-1015", "status": 200}, insert,
                        {"*": ("ok", "str", HTML + r".*You are being rate limited", r"^$")}),
    "nginx-502-insert": ("POST", {"html_page": "nginx-502"}, insert,
                         {"*": ("postgrest.exceptions.APIError", "502", r"^Bad Gateway$", "^" + re.escape(NGINX_502))}),
    "kong-502-insert": ("POST", {"html_page": "kong-502"}, insert,
                        {"*": ("postgrest.exceptions.APIError", "502", r"^Bad Gateway$",
                               r"<title>Kong Error</title>.*request_id: [0-9a-f]{16}")}),
    "cloudflare-520-insert": ("POST", {"html_page": "cloudflare-520"}, insert,
                              {"*": ("postgrest.exceptions.APIError", "520", r"^Request failed with status 520$",
                                     HTML + r".*Cloudflare Ray ID")}),
    "paused-insert": ("POST", {"html_page": "supabase-paused"}, insert,
                      {"*": ("postgrest.exceptions.APIError", "540", r"^Request failed with status 540$",
                             r"<title>Project paused \| Supabase</title>")}),
    "rate-limit-429": ("POST", {"rate_limit": 2}, insert,
                       {"*": ("postgrest.exceptions.APIError", None, r"^API rate limit exceeded$", r"^None$")}),
    "json-503": ("POST", {"json_status": 503}, insert,
                 {"*": ("postgrest.exceptions.APIError", None, r"^Service Unavailable$", r"^None$")}),
    "connection-reset": ("POST", {"connection_reset": True}, insert,
                         {"sync": ("httpx.ReadError", None, r"^\[Errno 104\] Connection reset by peer$", r"^$"),
                          "async": ("httpx.ReadError", None, r"^$", r"^$")}),
    "answer-lost": ("POST", {"answer_lost": True}, insert,
                    {"sync": ("httpx.ReadError", None, r"^\[Errno 104\] Connection reset by peer$", r"^$"),
                     "async": ("httpx.ReadError", None, r"^$", r"^$")}),
    "truncated-body": ("GET", {"truncated_body": 0.5}, first_ids,
                       {"*": ("httpx.RemoteProtocolError", None, (r"^peer closed connection without sending "
                              r"complete message body \(received \d+ bytes, expected \d+\)$"), r"^$")}),
    "hang": ("POST", {"hang": True}, insert,
             {"sync": ("httpx.ReadTimeout", None, r"^timed out$", r"^$"),
              "async": ("httpx.ReadTimeout", None, r"^$", r"^$")}),
    "wrong-content-type": ("GET", {"wrong_content_type": "text/html"}, first_ids,
                           {"*": ("ok", "list", r"^\[\{'id': 1\}, \{'id': 2\}\]$", r"^$")}),
    "slow-body": ("GET", {"slow_body": 0.01, "chunk_size": 8}, first_ids,
                  {"*": ("ok", "list", r"^\[\{'id': 1\}, \{'id': 2\}\]$", r"^$")}),
    "latency": ("GET", {"latency": 0.05, "jitter": 0.05}, first_ids,
                {"*": ("ok", "list", r"^\[\{'id': 1\}, \{'id': 2\}\]$", r"^$")}),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_effect_through_postgrest_clients_same_on_both_sides(
        case: str, flavour: str, stack: Target, table: str, faults: FaultsClient) -> None:
    method, effect, op, expected = CASES[case]
    rule = {"id": f"t-{case}", "match": {"service": "rest", "method": method, "table": table},
            "effect": effect, "seed": 9}
    timeout = 1.0 if case == "hang" else 10.0
    with faults.add(rule):
        server = await outcome(stack, flavour, op(table), timeout=timeout)
    client = await outcome(stack, flavour, op(table), rules=[rule], timeout=timeout)
    kind, code, message, details = expected.get(flavour) or expected["*"]
    if case in ("connection-reset", "answer-lost") and server[0] == "httpx.RemoteProtocolError":
        # A reset that races the request body: the OS may report the closed socket before the
        # RST (an early EOF). Both are what httpx raises for a resetting edge.
        assert server[2] == "Server disconnected without sending a response.", server
        assert client[0] in ("httpx.ReadError", "httpx.RemoteProtocolError"), client
        return
    assert server[:2] == (kind, code), server
    assert re.search(message, server[2], re.DOTALL), server
    assert re.search(details, server[3], re.DOTALL), server
    assert client == server
    assert [e["rule"] for e in faults.log()[-1:]] == [f"t-{case}"]
    if case == "truncated-body":  # half the real body arrived
        received, expected_size = map(int, re.findall(r"\d+", server[2]))
        assert received == expected_size // 2 and received > 0


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_lost_answer_was_committed_on_both_sides(flavour: str, stack: Target, table: str,
                                                         faults: FaultsClient, db_url: str) -> None:
    """``answer_lost``: the client sees a dropped connection, yet the write is in the table."""
    note = f"lost-{flavour}-{uuid.uuid4().hex[:6]}"
    rule = {"id": "lost", "match": {"service": "rest", "method": "POST", "table": table},
            "effect": {"answer_lost": True}}
    op = lambda c: c.table(table).insert({"note": note}).execute()  # noqa: E731
    with faults.add(rule):
        server = await outcome(stack, flavour, op)
    client = await outcome(stack, flavour, op, rules=[rule])
    assert server[0] in ("httpx.ReadError", "httpx.RemoteProtocolError") and client[0] == "httpx.ReadError"
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(f'select count(*) from public."{table}" where note = %s', (note,)).fetchone()  # type: ignore[arg-type]
    assert rows == (2,)  # one committed behind each lost answer


def test_postgrest_retries_get_on_503(stack: Target, table: str, faults: FaultsClient) -> None:
    """The one slow test: postgrest re-sends a GET three times (sleeping 1, 2, 4 s) on 503."""
    rule = {"id": "503-three-times", "match": {"service": "rest", "method": "GET", "table": table},
            "when": {"first": 3}, "effect": {"json_status": 503}}
    faults.add(rule)
    with httpx.Client(timeout=10, verify=False) as http:
        data = Client(stack.url, stack.service_role_key or "", SyncClientOptions(httpx_client=http)
                      ).table(table).select("id").order("id").limit(1).execute().data
    assert data == [{"id": 1}]  # the fourth attempt got through
    assert faults.counts() == {"503-three-times": {"matched": 4, "fired": 3}}
    assert [e["n"] for e in faults.log() if e["rule"] == "503-three-times"] == [1, 2, 3]

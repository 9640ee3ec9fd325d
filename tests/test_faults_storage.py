"""Each fault effect through the real supabase-py storage clients, sync and async, injected
by the stack's middleware (server side) and by the client transport (client side).

Both sides must give the exception type and message the installed supabase-py produces;
the expected values below were observed with supabase 2.34.1 / storage3 2.34.1.
Transports use ``verify=False``: the stack is plain http on loopback, and a verifying
transport loads the CA bundle (~0.1 s) for nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from supabase import AsyncClient, AsyncClientOptions, Client
from supabase.lib.client_options import SyncClientOptions

from kit.faults import FaultsClient, wrap_async, wrap_sync
from kit.targets import Target

OBJECT = b"hello world " * 300  # 3600 bytes
DOWNLOADS = {"match": {"service": "storage", "method": "GET"}}
LISTS = {"match": {"service": "storage", "path": "/storage/v1/object/list/*"}}
UPLOADS = {"match": {"service": "storage", "method": ["POST", "PUT"], "path": "/storage/v1/object/*"}}
HTML_200 = {"html_page": "cloudflare-520", "status": 200}


def download(s: Any) -> Any:
    return s.download("a.txt")


def upload(s: Any) -> Any:
    return s.upload(f"up/{uuid.uuid4().hex}.txt", b"x")


def listing(s: Any) -> Any:
    return s.list()


def _norm(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<time>", text)


Outcome = tuple[str, str, Any]


async def outcome(target: Target, bucket: str, flavour: str, op: Callable[[Any], Any],
                  rules: list[dict[str, Any]] | None = None, timeout: float = 5.0) -> Outcome:
    """Run ``op`` on a real storage client; ``("ok", repr, None)`` or ``(error type, message, status)``."""
    key = target.service_role_key or ""
    try:
        if flavour == "sync":
            sync_transport: httpx.BaseTransport = httpx.HTTPTransport(verify=False)
            with httpx.Client(transport=wrap_sync(sync_transport, rules) if rules else sync_transport,
                              timeout=timeout) as http:
                result = op(Client(target.url, key, SyncClientOptions(httpx_client=http)).storage.from_(bucket))
        else:
            async_transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(verify=False)
            async with httpx.AsyncClient(transport=wrap_async(async_transport, rules) if rules else async_transport,
                                         timeout=timeout) as ahttp:
                client = AsyncClient(target.url, key, AsyncClientOptions(httpx_client=ahttp))
                result = await op(client.storage.from_(bucket))
    except Exception as exc:  # noqa: BLE001 - the outcome under test is the exception
        return f"{type(exc).__module__}.{type(exc).__qualname__}", _norm(str(exc)), getattr(exc, "status", None)
    return "ok", _norm(repr(result)), None


@pytest.fixture(scope="module")
def bucket(stack: Target) -> Iterator[str]:
    name = f"faults-{uuid.uuid4().hex[:8]}"
    with httpx.Client(timeout=30, verify=False) as http:
        storage = Client(stack.url, stack.service_role_key or "", SyncClientOptions(httpx_client=http)).storage
        storage.create_bucket(name)
        storage.from_(name).upload("a.txt", OBJECT)
    yield name


@pytest.fixture
def faults(stack: Target) -> Iterator[FaultsClient]:
    client = FaultsClient(stack)
    client.clear()
    yield client
    client.clear()


UNPARSABLE = "Unable to parse error message: "
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], Callable[[Any], Any], dict[str, tuple[str, str, Any]]]] = {
    # name: (match, effect, operation, {flavour: (type, message regex, status)})
    "html-200-download": (DOWNLOADS, HTML_200, download,
                          {"*": ("ok", r"^b'<!DOCTYPE html>\\n<html class=\"no-js\".*Error code 520", None)}),
    "html-502-download": (DOWNLOADS, {"html_page": "nginx-502"}, download,
                          {"*": ("storage3.exceptions.StorageApiError",
                                 r"^\{'statusCode': 502, 'error': InternalError, 'message': "
                                 + re.escape(UNPARSABLE + "<html>\r\n<head><title>502 Bad Gateway</title>"), 502)}),
    "html-520-list": (LISTS, {"html_page": "cloudflare-520"}, listing,
                      {"*": ("storage3.exceptions.StorageApiError",
                             r"'statusCode': 520, 'error': InternalError, 'message': "
                             + re.escape(UNPARSABLE + "<!DOCTYPE html>"), 520)}),
    "html-200-list": (LISTS, HTML_200, listing,
                      {"*": ("json.decoder.JSONDecodeError", r"^Expecting value: line 1 column 1 \(char 0\)$", None)}),
    "html-200-upload": (UPLOADS, HTML_200, upload,
                        {"*": ("json.decoder.JSONDecodeError", r"^Expecting value: line 1 column 1 \(char 0\)$", None)}),
    "rate-limit-429": (DOWNLOADS, {"rate_limit": 2}, download,
                       {"*": ("storage3.exceptions.StorageApiError",
                              re.escape(UNPARSABLE + '{"message": "API rate limit exceeded"}'), 429)}),
    "json-503": (DOWNLOADS, {"json_status": 503, "body": {"statusCode": "503", "error": "Service Unavailable",
                                                          "message": "upstream down"}}, download,
                 {"*": ("storage3.exceptions.StorageApiError",
                        r"^\{'statusCode': 503, 'error': Service Unavailable, 'message': upstream down\}$", "503")}),
    "connection-reset": (DOWNLOADS, {"connection_reset": True}, download,
                         {"sync": ("httpx.ReadError", r"^\[Errno 104\] Connection reset by peer$", None),
                          "async": ("httpx.ReadError", r"^$", None)}),
    "truncated-body": (DOWNLOADS, {"truncated_body": 0.5}, download,
                       {"*": ("httpx.RemoteProtocolError", (r"^peer closed connection without sending complete "
                              r"message body \(received 1800 bytes, expected 3600\)$"), None)}),
    "hang": (DOWNLOADS, {"hang": True}, download,
             {"sync": ("httpx.ReadTimeout", r"^timed out$", None), "async": ("httpx.ReadTimeout", r"^$", None)}),
    "latency": (DOWNLOADS, {"latency": 0.05, "jitter": 0.02}, download, {"*": ("ok", re.escape(repr(OBJECT)), None)}),
    "slow-body": (DOWNLOADS, {"slow_body": 0.01, "chunk_size": 1000}, download,
                  {"*": ("ok", re.escape(repr(OBJECT)), None)}),
    "wrong-content-type": (LISTS, {"wrong_content_type": "text/html; charset=utf-8"}, listing,
                           {"*": ("ok", r"^\[\{'name': 'a.txt'", None)}),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_effect_through_storage_clients_same_on_both_sides(
        case: str, flavour: str, stack: Target, bucket: str, faults: FaultsClient) -> None:
    match, effect, op, expected = CASES[case]
    rule = {**match, "effect": effect, "seed": 5, "id": f"t-{case}"}
    timeout = 1.0 if case == "hang" else 10.0
    with faults.add(rule):
        server = await outcome(stack, bucket, flavour, op, timeout=timeout)
    client = await outcome(stack, bucket, flavour, op, rules=[rule], timeout=timeout)
    kind, pattern, status = expected.get(flavour) or expected["*"]
    assert server[0] == kind, server
    assert re.search(pattern, server[1], re.DOTALL), server
    assert server[2] == status
    assert client == server
    assert faults.log()[-1]["rule"] == f"t-{case}"  # the stack logged which rule made it


async def test_no_rules_means_no_change(stack: Target, bucket: str, faults: FaultsClient) -> None:
    with faults.add({"match": {"service": "rest"}, "effect": {"html_page": "kong-502"}}):
        assert await outcome(stack, bucket, "async", download) == ("ok", repr(OBJECT), None)
        assert await outcome(stack, bucket, "sync", download, rules=[{"match": {"bucket": "other"},
                                                                     "effect": {"hang": True}}]) == (
            "ok", repr(OBJECT), None)


EDGE_UNDER_LOAD = [
    {"id": "edge-520-under-load", "match": {"service": "storage", "method": "GET"},
     "when": {"in_flight_at_least": 4}, "effect": {"html_page": "cloudflare-520", "status": 200}},
    # a slow origin: holds each download long enough for the others to arrive
    {"id": "slow-origin", "match": {"service": "storage", "method": "GET"}, "effect": {"latency": 0.4}},
]


@pytest.mark.parametrize("side", ["server", "client"])
async def test_in_flight_trigger_fires_under_real_concurrency_only(
        side: str, stack: Target, bucket: str, faults: FaultsClient) -> None:
    import asyncio

    transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(verify=False)
    if side == "client":
        transport = wrap_async(transport, EDGE_UNDER_LOAD)
    else:
        faults.add(EDGE_UNDER_LOAD)
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        storage = AsyncClient(stack.url, stack.service_role_key or "",
                              AsyncClientOptions(httpx_client=http)).storage.from_(bucket)
        sequential = [await storage.download("a.txt") for _ in range(5)]
        concurrent = await asyncio.gather(*(storage.download("a.txt") for _ in range(6)))
    assert all(body == OBJECT for body in sequential)
    html = [body for body in concurrent if body.startswith(b"<!DOCTYPE html>")]
    assert 1 <= len(html) <= 3 and len(html) + concurrent.count(OBJECT) == 6  # the first three get through
    if side == "server":
        edge = [e for e in faults.log() if e["rule"] == "edge-520-under-load"]
        assert len(edge) == len(html) and all(e["in_flight"] >= 4 for e in edge)
        assert faults.counts()["edge-520-under-load"] == {"matched": 11, "fired": len(html)}


def _ray_ids(bodies: list[bytes]) -> list[str | None]:
    found = [re.search(rb"Cloudflare Ray ID: <strong class=\"font-semibold\">([0-9a-f]{16})", b) for b in bodies]
    return [m.group(1).decode() if m else None for m in found]


def test_same_seed_and_sequence_give_the_same_faults(stack: Target, bucket: str, faults: FaultsClient) -> None:
    rule = {"id": "flaky-edge", "match": {"service": "storage", "method": "GET"},
            "when": {"probability": 0.5}, "effect": {"html_page": "cloudflare-522", "status": 200}, "seed": 11}

    def run(rules: list[dict[str, Any]] | None) -> list[str | None]:
        inner = httpx.HTTPTransport(verify=False)
        with httpx.Client(transport=wrap_sync(inner, rules) if rules else inner, timeout=10) as http:
            storage = Client(stack.url, stack.service_role_key or "", SyncClientOptions(httpx_client=http)).storage
            return _ray_ids([storage.from_(bucket).download("a.txt") for _ in range(12)])

    with faults.add(rule):
        first = run(None)
    with faults.add(rule):
        second = run(None)
    client_side = run([rule])
    assert first == second == client_side
    assert 0 < sum(ray is not None for ray in first) < 12  # some downloads got the page, some the file
    with faults.add({**rule, "seed": 12}):
        assert run(None) != first

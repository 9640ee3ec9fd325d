"""Server side: the stack's outermost ASGI middleware carries out injections.

    app = Starlette(..., middleware=[Middleware(FaultMiddleware, faults=FaultSet())])

Handlers never see fault code: this wraps the whole gateway, counts the requests in
flight around the inner app (the ``in_flight_at_least`` trigger reads that count),
and, when a rule fires, answers instead of the service, or forwards and then spoils
the real answer. Connection resets and truncations close the real socket (uvicorn's
transport) so clients see exactly what a dropped connection gives them. Every
injection is marked with ``x-kit-fault: <rule id>`` (unless turned off) and logged.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.faults.effects import Injection
from kit.faults.engine import FAULT_HEADER, FaultSet
from kit.faults.matching import RequestInfo

log = logging.getLogger("kit.stack.faults")
EXEMPT_PATHS = ("/_kit/faults", "/_kit/health")  # the admin route and the liveness probe stay clean


def request_info(scope: Scope) -> RequestInfo:
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
    return RequestInfo.of(scope["method"], scope["path"], host.rsplit(":", 1)[0] if ":" in host else host)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: FaultSet) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        self.faults.enter()
        try:
            injection = self.faults.decide(request_info(scope)) if self.faults else None
            if injection is None:
                await self.app(scope, receive, send)
                return
            log.warning("fault %s: %s on %s %s", injection.rule_id, injection.effect,
                        scope["method"], scope["path"])
            marks = [(FAULT_HEADER.encode(), injection.rule_id.encode())] if self.faults.mark_header else []
            await deliver(injection, self.app, scope, receive, send, marks)
        finally:
            self.faults.leave()


async def deliver(inj: Injection, app: ASGIApp, scope: Scope, receive: Receive, send: Send,
                  marks: list[tuple[bytes, bytes]]) -> None:
    if inj.delay:
        await asyncio.sleep(inj.delay)
    if inj.action == "reply":
        headers = [(k.encode(), v.encode()) for k, v in inj.headers]
        headers += [(b"content-length", str(len(inj.body)).encode()), *marks]
        await send({"type": "http.response.start", "status": inj.status, "headers": headers})
        await send({"type": "http.response.body", "body": inj.body})
    elif inj.action == "reset":
        _close(receive, abortive=True)
        await _until_disconnect(receive)
    elif inj.action == "hang":
        await _until_disconnect(receive)
    elif inj.action == "lose":  # the handler runs to its commit; its answer goes nowhere
        await app(scope, receive, _discard)
        _close(receive, abortive=True)
        await _until_disconnect(receive)
    elif inj.rewrites_body:
        await _rewrite_body(inj, app, scope, receive, send, marks)
    else:
        await app(scope, receive, _retyping_send(send, inj.content_type, marks))


async def _discard(message: Message) -> None:
    return None


def _retyping_send(send: Send, content_type: str | None, marks: list[tuple[bytes, bytes]]) -> Send:
    async def retyping_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": _headers(message.get("headers", []), content_type, marks)}
        await send(message)
    return retyping_send


def _headers(headers: Any, content_type: str | None, marks: list[tuple[bytes, bytes]],
             length: int | None = None) -> list[tuple[bytes, bytes]]:
    drop = {b"content-type"} if content_type else set()
    if length is not None:
        drop |= {b"content-length", b"transfer-encoding"}
    out = [(bytes(k), bytes(v)) for k, v in headers if bytes(k).lower() not in drop]
    if content_type:
        out.append((b"content-type", content_type.encode()))
    if length is not None:
        out.append((b"content-length", str(length).encode()))
    return out + marks


async def _rewrite_body(inj: Injection, app: ASGIApp, scope: Scope, receive: Receive, send: Send,
                        marks: list[tuple[bytes, bytes]]) -> None:
    start: Message = {}
    parts: list[bytes] = []

    async def collect(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, collect)
    body = b"".join(parts)
    headers = _headers(start.get("headers", []), inj.content_type, marks, length=len(body))
    await send({"type": "http.response.start", "status": start.get("status", 500), "headers": headers})
    if inj.keep_fraction is not None:
        await send({"type": "http.response.body", "body": body[:int(len(body) * inj.keep_fraction)],
                    "more_body": True})
        _close(receive, abortive=False)
        await _until_disconnect(receive)
        return
    size = inj.chunk_size
    for offset in range(0, max(len(body), 1), size):
        if offset:
            await asyncio.sleep(inj.chunk_delay)
        await send({"type": "http.response.body", "body": body[offset:offset + size],
                    "more_body": offset + size < len(body)})


def _close(receive: Receive, *, abortive: bool) -> None:
    """Close the client's socket now: a RST when ``abortive``, else a FIN after pending writes."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("the ASGI server exposes no transport; connection faults need uvicorn")
    if abortive:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass

"""Client side: the same rules inside an httpx transport, for targets the kit does not control.

    transport = wrap_sync(httpx.HTTPTransport(), [{"effect": {"html_page": "cloudflare-520"}}])
    client = httpx.Client(transport=transport)          # or kit.clients(target, faults=[...])

Nothing bad is sent to the server: a reply, reset or hang never forwards the request;
``answer_lost`` forwards it as it is and drops the answer; pass-through effects (latency, wrong content type, slow or truncated body) spoil the
real answer on its way back. Responses and exceptions mirror what the embedded stack's
middleware produces through a real socket (same status, headers, reason phrase, body,
exception type and message), so a fault replays the same way on either side.

Sync and async are written once: ``_exchange`` is a generator of steps (sleep, forward,
read) that two thin runners carry out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx

from kit.faults.effects import Injection
from kit.faults.engine import FAULT_HEADER, FaultSet
from kit.faults.matching import RequestInfo
from kit.faults.rules import RulesLike

# What httpx raises for a dropped or silent socket, per flavour (measured through uvicorn):
# the sync backend keeps the OS error text, the async (anyio) backend an empty message.
_RESET_MESSAGE = {"sync": "[Errno 104] Connection reset by peer", "async": ""}
_TIMEOUT_MESSAGE = {"sync": "timed out", "async": ""}
_FOREVER = 24 * 3600.0  # a hang with no client timeout: as good as forever


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Forward:
    """Send the request to the inner transport; the runner sends back its response."""


@dataclass(frozen=True)
class ReadRaw:
    """Read the response's raw bytes and close it; the runner sends back the bytes."""

    response: httpx.Response


Step = Sleep | Forward | ReadRaw
BodyStep = float | bytes | Exception  # sleep seconds, a chunk, or the error that ends the body


def _phrase(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _retyped(headers: httpx.Headers, inj: Injection, marks: list[tuple[str, str]],
             length: int | None = None) -> list[tuple[str, str]]:
    drop = {"content-type"} if inj.content_type else set()
    if length is not None:
        drop |= {"content-length", "transfer-encoding"}
    out = [(k, v) for k, v in headers.multi_items() if k.lower() not in drop]
    if inj.content_type:
        out.append(("content-type", inj.content_type))
    if length is not None:
        out.append(("content-length", str(length)))
    return out + marks


def body_steps(inj: Injection, raw: bytes, request: httpx.Request) -> list[BodyStep]:
    """How a spoiled body arrives: chunks with pauses, or a part and then the broken connection."""
    if inj.keep_fraction is not None:
        kept = int(len(raw) * inj.keep_fraction)
        return [raw[:kept], httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {kept} bytes, expected {len(raw)})", request=request)]
    steps: list[BodyStep] = []
    for offset in range(0, len(raw), inj.chunk_size):
        if offset:
            steps.append(inj.chunk_delay)
        steps.append(raw[offset:offset + inj.chunk_size])
    return steps


def _exchange(faults: FaultSet, request: httpx.Request, flavour: str,
              release: Callable[[], None]) -> Generator[Step, Any, httpx.Response]:
    inj = faults.decide(RequestInfo.of(request.method, request.url.path, request.url.host))
    if inj is None:
        response = yield Forward()
        return _Tracked.wrap(response, release)
    marks = [(FAULT_HEADER, inj.rule_id)] if faults.mark_header else []
    extensions = {"http_version": b"HTTP/1.1", "reason_phrase": _phrase(inj.status)}
    if inj.delay:
        yield Sleep(inj.delay)
    if inj.action == "reply":
        headers = [*inj.headers, ("content-length", str(len(inj.body))), *marks]
        body = b"" if request.method == "HEAD" else inj.body  # a server sends no body to HEAD
        return httpx.Response(inj.status, headers=headers, stream=_Tracked([body], release),
                              request=request, extensions=extensions)
    if inj.action == "reset":
        raise httpx.ReadError(_RESET_MESSAGE[flavour], request=request)
    if inj.action == "hang":
        timeout = request.extensions.get("timeout", {}).get("read")
        yield Sleep(_FOREVER if timeout is None else timeout)
        raise httpx.ReadTimeout(_TIMEOUT_MESSAGE[flavour], request=request)
    real: httpx.Response = yield Forward()
    if inj.action == "lose":  # the server handled (and committed) it; the answer is dropped
        yield ReadRaw(real)
        raise httpx.ReadError(_RESET_MESSAGE[flavour], request=request)
    if not inj.rewrites_body:
        return _Tracked.wrap(httpx.Response(real.status_code, headers=_retyped(real.headers, inj, marks),
                                            stream=real.stream, request=request,
                                            extensions=real.extensions), release)
    raw: bytes = yield ReadRaw(real)
    return httpx.Response(real.status_code, headers=_retyped(real.headers, inj, marks, len(raw)),
                          stream=_Tracked(body_steps(inj, raw, request), release), request=request,
                          extensions=real.extensions)


class _Tracked(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that plays body steps (or an inner stream) and ends the request's in-flight count on close."""

    def __init__(self, steps: list[BodyStep] | None, release: Callable[[], None],
                 inner: Any = None) -> None:
        self.steps = steps or []
        self.inner = inner
        self._release: Callable[[], None] | None = release

    @classmethod
    def wrap(cls, response: httpx.Response, release: Callable[[], None]) -> httpx.Response:
        response.stream = cls(None, release, inner=response.stream)
        return response

    def _done(self) -> None:
        release = self._release
        if release is not None:
            self._release = None
            release()

    def __iter__(self) -> Iterator[bytes]:
        if self.inner is not None:
            yield from self.inner
        for step in self.steps:
            if isinstance(step, Exception):
                raise step
            if isinstance(step, float):
                time.sleep(step)
            else:
                yield step

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.inner is not None:
            async for chunk in self.inner:
                yield chunk
        for step in self.steps:
            if isinstance(step, Exception):
                raise step
            if isinstance(step, float):
                await asyncio.sleep(step)
            else:
                yield step

    def close(self) -> None:
        try:
            if self.inner is not None:
                self.inner.close()
        finally:
            self._done()

    async def aclose(self) -> None:
        try:
            if self.inner is not None:
                await self.inner.aclose()
        finally:
            self._done()


class FaultTransport(httpx.BaseTransport):
    """``wrap_sync(inner, rules)``: applies fault rules around a sync httpx transport."""

    def __init__(self, inner: httpx.BaseTransport, faults: FaultSet) -> None:
        self.inner = inner
        self.faults = faults

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.faults.enter()
        flow = _exchange(self.faults, request, "sync", self.faults.leave)
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                    step = next(flow)
                elif isinstance(step, Forward):
                    step = flow.send(self.inner.handle_request(request))
                else:
                    raw = b"".join(step.response.iter_raw())
                    step.response.close()
                    step = flow.send(raw)
        except StopIteration as done:
            return done.value
        except BaseException:
            self.faults.leave()
            raise

    def close(self) -> None:
        self.inner.close()


class AsyncFaultTransport(httpx.AsyncBaseTransport):
    """``wrap_async(inner, rules)``: applies fault rules around an async httpx transport."""

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: FaultSet) -> None:
        self.inner = inner
        self.faults = faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.faults.enter()
        flow = _exchange(self.faults, request, "async", self.faults.leave)
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                    step = next(flow)
                elif isinstance(step, Forward):
                    step = flow.send(await self.inner.handle_async_request(request))
                else:
                    raw = b"".join([chunk async for chunk in step.response.aiter_raw()])
                    await step.response.aclose()
                    step = flow.send(raw)
        except StopIteration as done:
            return done.value
        except BaseException:
            self.faults.leave()
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()


def _fault_set(rules: RulesLike | FaultSet, mark_header: bool) -> FaultSet:
    return rules if isinstance(rules, FaultSet) else FaultSet(rules, mark_header=mark_header)


def wrap_sync(inner: httpx.BaseTransport, rules: RulesLike | FaultSet | Iterable[Any],
              *, mark_header: bool = True) -> FaultTransport:
    """A sync transport applying ``rules`` (dicts, FaultRules, or a shared FaultSet) around ``inner``.

    >>> t = wrap_sync(httpx.HTTPTransport(), [{"effect": {"json_status": 503}}])
    >>> t.faults.rules[0].effect.name
    'json_status'
    """
    return FaultTransport(inner, _fault_set(rules, mark_header))


def wrap_async(inner: httpx.AsyncBaseTransport, rules: RulesLike | FaultSet | Iterable[Any],
               *, mark_header: bool = True) -> AsyncFaultTransport:
    """The async twin of ``wrap_sync``: ``wrap_async(httpx.AsyncHTTPTransport(), rules)``."""
    return AsyncFaultTransport(inner, _fault_set(rules, mark_header))

"""Recording transports: wrap any httpx transport and record every exchange into a Capture.

    transport = RecordingTransport(httpx.HTTPTransport(), capture)
    httpx.Client(transport=transport)          # AsyncRecordingTransport for httpx.AsyncClient

They compose with other wrapping transports (faults):
``RecordingTransport(FaultTransport(HTTPTransport()))``. The recording logic is written
once (``_begin`` / ``_finish``); the sync and async classes differ only in how they call
the inner transport and read the body.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

import httpx

from kit.capture import Capture, Exchange, current_mode, header_value, service_of

__all__ = ["AsyncRecordingTransport", "RecordingTransport"]

_seq = itertools.count(1)
FAULT_HEADER = "x-kit-fault"


@dataclass
class _Pending:
    request: httpx.Request
    started_at: float
    started_perf: float
    mode: str | None
    thread: str


def _begin(request: httpx.Request) -> _Pending:
    return _Pending(request, time.time(), time.perf_counter(), current_mode.get(),
                    threading.current_thread().name)


def _finish(capture: Capture, pending: _Pending, response: httpx.Response | None,
            error: BaseException | None) -> None:
    elapsed = time.perf_counter() - pending.started_perf
    request = pending.request
    try:
        request_body = request.content
    except httpx.RequestNotRead:  # a streamed upload: its bytes are gone by now
        request_body = b""
    request_headers = tuple(request.headers.multi_items())
    retry = header_value(request_headers, "x-retry-count") or "0"
    status = body = None
    headers: tuple[tuple[str, str], ...] = ()
    if response is not None:
        status = response.status_code
        headers = tuple(response.headers.multi_items())
        body = response.content if error is None else b""
    url = str(request.url)
    capture.append(Exchange(
        method=request.method, url=url, request_headers=request_headers,
        request_content=capture.keep_body(request_body),
        status=status, response_headers=headers, response_content=capture.keep_body(body),
        started_at=pending.started_at, ended_at=pending.started_at + elapsed,
        duration_ms=elapsed * 1000.0,
        http_version=(response.http_version if response is not None else "") or "HTTP/1.1",
        mode=pending.mode, thread=pending.thread,
        error=None if error is None else repr(error),
        retry_attempt=int(retry) if retry.isdigit() else 0,
        service=service_of(url), fault_rule=header_value(headers, FAULT_HEADER),
        seq=next(_seq), secrets=capture.secrets))


class RecordingTransport(httpx.BaseTransport):
    """A sync transport that records into ``capture`` and delegates to ``inner``."""

    def __init__(self, inner: httpx.BaseTransport, capture: Capture) -> None:
        self.inner = inner
        self.capture = capture

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pending = _begin(request)
        response = None
        try:
            request.read()  # multipart uploads stream; read them once so the capture keeps them
            response = self.inner.handle_request(request)
            response.read()  # the body is read here, so a truncated body is recorded as an error
        except BaseException as exc:  # cancellations and timeouts are recorded too
            _finish(self.capture, pending, response, exc)
            if response is not None:
                response.close()
            raise
        _finish(self.capture, pending, response, None)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncRecordingTransport(httpx.AsyncBaseTransport):
    """The async twin of ``RecordingTransport``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, capture: Capture) -> None:
        self.inner = inner
        self.capture = capture

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pending = _begin(request)
        response = None
        try:
            await request.aread()
            response = await self.inner.handle_async_request(request)
            await response.aread()
        except BaseException as exc:  # cancellations and timeouts are recorded too
            _finish(self.capture, pending, response, exc)
            if response is not None:
                await response.aclose()
            raise
        _finish(self.capture, pending, response, None)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

"""Record the Supabase traffic of every client a test makes, the app's own ones included.

    with recording_supabase_traffic() as capture:
        ...                                  # any supabase-py client, built anywhere
    capture[0].summary(); capture.site_of(capture[0]).where   # 'app/ads.py:21 list_ads'

This is the documented hook for clients the app builds itself: nothing to change in the
app. While active, ``httpx.HTTPTransport`` and ``httpx.AsyncHTTPTransport`` (which every
supabase-py client sends through, whatever its options) record each request to a Supabase
service path (``/rest/v1``, ``/storage/v1``, ``/auth/v1``, ``/functions/v1``) with the
kit's ``RecordingTransport``; other traffic passes untouched. The exchanges are the real
ones: nothing is replaced or replayed. Each exchange also remembers the deepest line of
user code that was running when it was recorded (its call site).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import httpx

from kit.capture import Capture, Exchange, service_of
from kit.loop.frames import FrameInfo, classify
from kit.recording import AsyncRecordingTransport, RecordingTransport


class SitedCapture(Capture):
    """A Capture that also keeps each exchange's call site in user code."""

    def __init__(self) -> None:
        super().__init__()
        self._sites: dict[int, FrameInfo | None] = {}

    def append(self, exchange: Exchange) -> None:
        # Called by the recording transport in the thread (or task) that made the request,
        # so the stack above is the caller's: sync code, a to_thread worker or a coroutine chain.
        self._sites[exchange.seq] = _user_call_site()
        super().append(exchange)

    def site_of(self, exchange: Exchange) -> FrameInfo | None:
        return self._sites.get(exchange.seq)


def _user_call_site() -> FrameInfo | None:
    frame = sys._getframe(2)
    try:
        while frame is not None:
            code = frame.f_code
            if classify(code.co_filename) == "user":
                return FrameInfo(code.co_filename, frame.f_lineno or 0, code.co_name, "user")
            frame = frame.f_back  # type: ignore[assignment]
        return None
    finally:
        del frame


class _Direct(httpx.BaseTransport):
    def __init__(self, transport: httpx.HTTPTransport, send: Any) -> None:
        self.transport, self.send = transport, send

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.send(self.transport, request)


class _AsyncDirect(httpx.AsyncBaseTransport):
    def __init__(self, transport: httpx.AsyncHTTPTransport, send: Any) -> None:
        self.transport, self.send = transport, send

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.send(self.transport, request)


@contextlib.contextmanager
def recording_supabase_traffic(capture: SitedCapture | None = None) -> Iterator[SitedCapture]:
    """Record every Supabase exchange made while the block runs (any thread, any client)."""
    capture = capture if capture is not None else SitedCapture()
    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if service_of(str(request.url)) == "other":
            return sync_send(self, request)
        return RecordingTransport(_Direct(self, sync_send), capture).handle_request(request)

    async def handle_async_request(self: httpx.AsyncHTTPTransport,
                                   request: httpx.Request) -> httpx.Response:
        if service_of(str(request.url)) == "other":
            return await async_send(self, request)
        recording = AsyncRecordingTransport(_AsyncDirect(self, async_send), capture)
        return await recording.handle_async_request(request)

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]
    try:
        yield capture
    finally:
        httpx.HTTPTransport.handle_request = sync_send  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = async_send  # type: ignore[method-assign]

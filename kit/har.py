"""A Capture as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), secrets masked.

    har = capture_to_har(capture)          # dict, ready for json.dumps
"""

from __future__ import annotations

import base64
import datetime as dt
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from kit.render.sniff import sniff_kind
from kit.render.text import decode_text
from kit.secrets import mask_bytes, mask_text

if TYPE_CHECKING:
    from kit.capture import Capture, Exchange

__all__ = ["capture_to_har", "exchange_to_har"]

_TEXT_KINDS = ("json", "html", "text", "empty")


def capture_to_har(capture: Capture) -> dict[str, Any]:
    from kit import __version__

    return {"log": {"version": "1.2",
                    "creator": {"name": "kit (Supabase sync/async debugging kit)",
                                "version": __version__},
                    "pages": [],
                    "entries": [exchange_to_har(ex) for ex in capture]}}


def exchange_to_har(ex: Exchange) -> dict[str, Any]:
    known = ex.secrets
    url = mask_text(ex.url, known)
    started = dt.datetime.fromtimestamp(ex.started_at, tz=dt.timezone.utc)
    request: dict[str, Any] = {
        "method": ex.method, "url": url, "httpVersion": ex.http_version or "HTTP/1.1",
        "headers": _headers(ex.masked_request_headers()),
        "queryString": [{"name": k, "value": v}
                        for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
        "cookies": [], "headersSize": -1, "bodySize": len(ex.request_body)}
    if ex.request_body:
        request["postData"] = {"mimeType": ex.request_content_type or "application/octet-stream",
                               "params": [], "text": _text(ex.request_body, known)[0]}
    text, encoding = _text(ex.response_body, known)
    content: dict[str, Any] = {"size": len(ex.response_body),
                               "mimeType": ex.response_header("content-type") or "x-unknown",
                               "text": text}
    if encoding:
        content["encoding"] = encoding
    status = ex.status if ex.status is not None else 0
    response = {"status": status, "statusText": _reason(status),
                "httpVersion": ex.http_version or "HTTP/1.1",
                "headers": _headers(ex.masked_response_headers()), "cookies": [],
                "content": content, "redirectURL": ex.response_header("location") or "",
                "headersSize": -1, "bodySize": len(ex.response_body) if ex.status else -1}
    wait = round(ex.duration_ms, 3)
    return {"startedDateTime": started.isoformat().replace("+00:00", "Z"),
            "time": wait, "request": request, "response": response, "cache": {},
            "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0,
                        "wait": wait, "receive": 0},
            "_mode": ex.mode, "_thread": ex.thread, "_service": ex.service,
            "_retryAttempt": ex.retry_attempt, "_faultRule": ex.fault_rule,
            "_error": ex.masked_error, "_seq": ex.seq}


def _headers(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def _text(body: bytes, known: tuple[str, ...]) -> tuple[str, str | None]:
    """Masked text for text-like bodies; masked base64 (``encoding: base64``) for the rest."""
    if sniff_kind(body) in _TEXT_KINDS:
        decoded = decode_text(body)
        if not decoded.invalid_offsets:
            return mask_text(decoded.text, known), None
    return base64.b64encode(mask_bytes(body, known)).decode("ascii"), "base64"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""

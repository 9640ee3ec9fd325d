"""A Capture as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), secrets masked.

    har = capture_to_har(capture)          # dict, ready for json.dumps
    with open("run.har", "w", encoding="utf-8") as f:
        write_har(capture, f)              # the same document, written one entry at a time

Bodies that are UTF-8 text go in ``text`` as they are; any other body goes in as base64 with
``"encoding": "base64"`` (HAR 1.2 ``content.encoding``; the same key marks a base64
``postData``, as browsers' exports do). ``write_har`` holds one body at a time in memory.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from kit.render.text import looks_textual
from kit.secrets import mask_bytes, mask_text

if TYPE_CHECKING:
    from kit.capture import Capture, Exchange

__all__ = ["capture_to_har", "exchange_to_har", "write_har"]


def _log_head() -> dict[str, Any]:
    from kit import __version__

    return {"version": "1.2",
            "creator": {"name": "kit (Supabase sync/async debugging kit)", "version": __version__},
            "pages": []}


def capture_to_har(capture: Capture) -> dict[str, Any]:
    return {"log": {**_log_head(), "entries": [exchange_to_har(ex) for ex in capture]}}


def write_har(capture: Capture, stream: IO[str]) -> None:
    """Write ``capture_to_har(capture)`` as JSON to ``stream``, one entry at a time."""
    head = json.dumps(_log_head(), ensure_ascii=False)
    stream.write('{"log": ' + head[:-1] + ', "entries": [')
    for index, ex in enumerate(capture):
        stream.write(",\n" if index else "\n")
        stream.write(json.dumps(exchange_to_har(ex), ensure_ascii=False))
    stream.write("\n]}}\n")


def exchange_to_har(ex: Exchange) -> dict[str, Any]:
    known = ex.secrets
    url = mask_text(ex.url, known)
    started = dt.datetime.fromtimestamp(ex.started_at, tz=dt.timezone.utc)
    request: dict[str, Any] = {
        "method": ex.method, "url": url, "httpVersion": ex.http_version or "HTTP/1.1",
        "headers": _headers(ex.masked_request_headers()),
        "queryString": [{"name": k, "value": v}
                        for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
        "cookies": [], "headersSize": -1, "bodySize": ex.request_size}
    if ex.request_size:
        text, encoding = _text(ex.request_body, known)
        request["postData"] = {"mimeType": ex.request_content_type or "application/octet-stream",
                               "params": [], "text": text}
        if encoding:
            request["postData"]["encoding"] = encoding
    text, encoding = _text(ex.response_body, known)
    content: dict[str, Any] = {"size": ex.response_size,
                               "mimeType": ex.response_header("content-type") or "x-unknown",
                               "text": text}
    if encoding:
        content["encoding"] = encoding
    status = ex.status if ex.status is not None else 0
    response = {"status": status, "statusText": _reason(status),
                "httpVersion": ex.http_version or "HTTP/1.1",
                "headers": _headers(ex.masked_response_headers()), "cookies": [],
                "content": content, "redirectURL": ex.response_header("location") or "",
                "headersSize": -1, "bodySize": ex.response_size if ex.status else -1}
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
    """Masked text for UTF-8 text bodies; masked base64 (``encoding: base64``) for the rest."""
    if looks_textual(body):
        try:
            return mask_text(body.decode("utf-8"), known), None
        except UnicodeDecodeError:
            pass
    return base64.b64encode(mask_bytes(body, known)).decode("ascii"), "base64"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""

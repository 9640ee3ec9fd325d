"""A Capture as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), secrets masked.

    har = capture_to_har(capture)          # dict, ready for json.dumps
    with open("run.har", "wb") as f:
        write_har(capture, f)              # the same document as UTF-8, streamed

Bodies that are UTF-8 text go in ``text`` as they are; any other body goes in as base64 with
``"encoding": "base64"`` (HAR 1.2 ``content.encoding``; the same key marks a base64
``postData``, as browsers' exports do). ``write_har`` streams each body in 1 MiB chunks
straight from the capture's spill file: masked as it goes (``kit.stream_masking``, the same
result as ``kit.secrets`` on the whole body), then JSON-escaped as UTF-8 bytes (a few C-level
``bytes.replace`` passes) or base64-encoded, so memory stays flat whatever the body's size.
"""

from __future__ import annotations

import base64
import codecs
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from kit.render.text import looks_textual
from kit.secrets import mask_text
from kit.stream_masking import BytesMasker, TextMasker

if TYPE_CHECKING:
    from kit.body_store import Body
    from kit.capture import Capture, Exchange

_CHUNK = 1 << 20  # bytes of a body read, masked and written at a time

__all__ = ["capture_to_har", "exchange_to_har", "json_escaped", "write_har"]


def _log_head() -> dict[str, Any]:
    from kit import __version__

    return {"version": "1.2",
            "creator": {"name": "kit (Supabase sync/async debugging kit)", "version": __version__},
            "pages": []}


def capture_to_har(capture: Capture) -> dict[str, Any]:
    return {"log": {**_log_head(), "entries": [exchange_to_har(ex) for ex in capture]}}


def write_har(capture: Capture, stream: IO[bytes]) -> None:
    """Write ``capture_to_har(capture)`` as UTF-8 JSON to the binary ``stream``, one entry and
    one body chunk at a time."""
    head = json.dumps(_log_head(), ensure_ascii=False)
    stream.write(('{"log": ' + head[:-1] + ', "entries": [').encode())
    marker = uuid.uuid4().hex
    for index, ex in enumerate(capture):
        stream.write(b",\n" if index else b"\n")
        parts, bodies = _entry_around_bodies(ex, marker)
        stream.write(parts[0].encode())
        for number, after in zip(parts[1::2], parts[2::2]):
            encoding, pieces = bodies[int(number)]
            for piece in pieces:
                stream.write(piece.encode("ascii") if encoding else json_escaped(piece))
            stream.write(after.encode())
    stream.write(b"\n]}}\n")


_CONTROLS = bytes(range(32))
_SHORT_ESCAPES = ((b"\n", b"\\n"), (b"\r", b"\\r"), (b"\t", b"\\t"), (b"\x0c", b"\\f"), (b"\x08", b"\\b"))
_CONTROL = re.compile(b"[" + re.escape(_CONTROLS) + b"]")


def json_escaped(text: str) -> bytes:
    """``text`` as the inside of a JSON string, UTF-8 (``json.loads(b'"' + it + b'"') == text``),
    by whole-buffer ``bytes.replace`` passes: RFC 8259 §7 escapes the quote, the backslash and
    U+0000-U+001F; everything else may stand as it is."""
    data = text.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    if len(data.translate(None, _CONTROLS)) == len(data):
        return data
    for char, escape in _SHORT_ESCAPES:
        data = data.replace(char, escape)
    return _CONTROL.sub(lambda m: b"\\u%04x" % m.group()[0], data)


def _entry_around_bodies(ex: Exchange, marker: str
                         ) -> tuple[list[str], list[tuple[str | None, Iterator[str]]]]:
    """The entry's JSON split where its bodies' texts go, and those bodies as pieces to stream:
    ``[json, "0", json, "1", json]`` (each body a numbered placeholder in the JSON)."""
    bodies: list[tuple[str | None, Iterator[str]]] = []

    def placeholder(body: Body, known: tuple[str, ...]) -> tuple[str, str | None]:
        bodies.append(_body_pieces(body, known))
        return f"\x00{marker}{len(bodies) - 1}\x00", bodies[-1][0]

    text = json.dumps(_entry(ex, placeholder), ensure_ascii=False)
    return re.split(r"\\u0000" + marker + r"(\d+)\\u0000", text), bodies


def exchange_to_har(ex: Exchange) -> dict[str, Any]:
    return _entry(ex, _whole_body)


def _entry(ex: Exchange, body_text: Callable[[Body, tuple[str, ...]], tuple[str, str | None]]
           ) -> dict[str, Any]:
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
        text, encoding = body_text(ex.request_content, known)
        request["postData"] = {"mimeType": ex.request_content_type or "application/octet-stream",
                               "params": [], "text": text}
        if encoding:
            request["postData"]["encoding"] = encoding
    text, encoding = body_text(ex.response_content, known)
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


def _whole_body(body: Body, known: tuple[str, ...]) -> tuple[str, str | None]:
    encoding, pieces = _body_pieces(body, known)
    return "".join(pieces), encoding


def _body_pieces(body: Body, known: tuple[str, ...]) -> tuple[str | None, Iterator[str]]:
    """``(None, masked text pieces)`` for a UTF-8 text body, ``("base64", base64 pieces)`` else."""
    if _is_text(body):
        return None, _text_pieces(body, known)
    return "base64", _base64_pieces(body, known)


def _is_text(body: Body) -> bool:
    if not looks_textual(body.head(4096)):
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in body.chunks(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", True)
    except UnicodeDecodeError:
        return False
    return True


def _text_pieces(body: Body, known: tuple[str, ...]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    masker = TextMasker(known)
    for chunk in body.chunks(_CHUNK):
        yield masker.feed(decoder.decode(chunk))
    yield masker.feed(decoder.decode(b"", True)) + masker.finish()


def _base64_pieces(body: Body, known: tuple[str, ...]) -> Iterator[str]:
    masker = BytesMasker(known)
    rest = b""
    for chunk in body.chunks(_CHUNK):
        data = rest + masker.feed(chunk)
        whole = len(data) - len(data) % 3  # base64 of whole 3-byte groups concatenates
        yield base64.b64encode(data[:whole]).decode("ascii")
        rest = data[whole:]
    yield base64.b64encode(rest + masker.finish()).decode("ascii")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""

"""Named flags for what went silently or loudly wrong; a user can search for the names.

    >>> flags_for(b"<!DOCTYPE html><title>Error</title>")
    ['html_where_bytes_expected']

``flags_for`` takes an Exchange, a Capture, a result (APIResponse, bytes, str), an
exception, a coroutine, or a list of those.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from kit.bodies import hidden_bodies
from kit.capture import Capture, Exchange
from kit.render.pages import is_html
from kit.render.sniff import declared_kind, sniff_kind

__all__ = ["FLAGS", "flags_for"]

HTML_WHERE_JSON_EXPECTED = "html_where_json_expected"
HTML_WHERE_BYTES_EXPECTED = "html_where_bytes_expected"
HTML_ERROR_PAGE = "html_error_page"
HTML_ERROR_PAGE_IN_EXCEPTION = "html_error_page_in_exception"
JSON_DECODE_ERROR_ON_HTML = "json_decode_error_on_html"
CONTENT_TYPE_MISMATCH = "content_type_mismatch"
TRUNCATED_BODY = "truncated_body"
TRANSPORT_ERROR = "transport_error"
RETRIED = "retried"
FAULT_INJECTED = "fault_injected"
UNAWAITED_COROUTINE = "unawaited_coroutine"

FLAGS: dict[str, str] = {
    HTML_WHERE_JSON_EXPECTED: "a 2xx response (or result) is an HTML page where JSON was expected",
    HTML_WHERE_BYTES_EXPECTED: "a file download returned an HTML page as if it were the file",
    HTML_ERROR_PAGE: "an error status came with an HTML page (an edge or gateway page)",
    HTML_ERROR_PAGE_IN_EXCEPTION: "an exception carries a whole HTML page in a field",
    JSON_DECODE_ERROR_ON_HTML: "JSON parsing failed because the body was an HTML page",
    CONTENT_TYPE_MISMATCH: "the Content-Type header does not match the bytes",
    TRUNCATED_BODY: "the connection closed before the whole body arrived",
    TRANSPORT_ERROR: "the request failed below HTTP (connect, reset, timeout)",
    RETRIED: "postgrest retried this request (X-Retry-Count)",
    FAULT_INJECTED: "the kit's fault injection made this response",
    UNAWAITED_COROUTINE: "an async call returned a coroutine that was never awaited",
}
_TRUNCATION = ("RemoteProtocolError", "IncompleteRead", "peer closed connection",
               "incomplete chunked read")


def flags_for(x: Any) -> list[str]:
    """Sorted, unique flag names for ``x`` (see ``FLAGS`` for what each means)."""
    found: set[str] = set()
    _collect(x, found, depth=0)
    return sorted(found)


def _collect(x: Any, found: set[str], depth: int) -> None:
    if depth > 3:
        return
    if isinstance(x, Exchange):
        found.update(_exchange_flags(x))
    elif isinstance(x, Capture):
        for ex in x:
            found.update(_exchange_flags(ex))
    elif isinstance(x, (bytes, bytearray, memoryview)):
        if is_html(bytes(x)):
            found.add(HTML_WHERE_BYTES_EXPECTED)
    elif inspect.iscoroutine(x):
        found.add(UNAWAITED_COROUTINE)
    elif isinstance(x, BaseException):
        found.update(_exception_flags(x))
    elif type(x).__name__ in ("APIResponse", "SingleAPIResponse"):
        data = getattr(x, "data", None)
        if isinstance(data, str) and is_html(data):
            found.add(HTML_WHERE_JSON_EXPECTED)
    elif isinstance(x, (list, tuple)) and not _is_json_rows(x):
        for item in x:
            _collect(item, found, depth + 1)


def _is_json_rows(x: Any) -> bool:
    return bool(x) and all(isinstance(i, dict) for i in x)


def _exchange_flags(ex: Exchange) -> set[str]:
    flags: set[str] = set()
    if ex.error is not None:
        flags.add(TRUNCATED_BODY if any(t in ex.error for t in _TRUNCATION) else TRANSPORT_ERROR)
    if ex.retry_attempt:
        flags.add(RETRIED)
    if ex.fault_rule:
        flags.add(FAULT_INJECTED)
    if ex.status is None or not ex.response_body:
        return flags
    kind = sniff_kind(ex.response_body, ex.content_type)
    if kind == "html":
        if ex.ok:
            flags.add(HTML_WHERE_BYTES_EXPECTED if expects_bytes(ex) else HTML_WHERE_JSON_EXPECTED)
        else:
            flags.add(HTML_ERROR_PAGE)
    promised = declared_kind(ex.content_type)
    if promised is not None and promised != kind and not (promised == "text" and kind == "json") \
            and not (promised in ("binary", "text") and expects_bytes(ex)):
        flags.add(CONTENT_TYPE_MISMATCH)
    return flags


def expects_bytes(ex: Exchange) -> bool:
    """A storage object download (``GET /storage/v1/object/...``, public, signed; not list/info)."""
    path = ex.path
    if ex.service != "storage" or ex.method not in ("GET", "HEAD"):
        return False
    rest = path.split("/storage/v1/", 1)[-1]
    return rest.startswith(("object/", "render/image/")) and not rest.startswith(
        ("object/list/", "object/info/"))


def _exception_flags(exc: BaseException) -> set[str]:
    flags: set[str] = set()
    for body in hidden_bodies(exc):
        if body.is_html:
            flags.add(HTML_ERROR_PAGE_IN_EXCEPTION)
            if body.source == "JSONDecodeError.doc":
                flags.add(JSON_DECODE_ERROR_ON_HTML)
    if "never awaited" in str(exc) or "'coroutine' object" in str(exc):
        flags.add(UNAWAITED_COROUTINE)
    if any(t in f"{type(exc).__name__}: {exc}" for t in _TRUNCATION):
        flags.add(TRUNCATED_BODY)
    return flags


def known_flags() -> Iterable[str]:
    return FLAGS.keys()


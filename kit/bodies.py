"""Bodies hidden inside results and exceptions: the HTML page supabase-py tucked away.

    >>> hidden_bodies(APIError({"code": "502", "message": "Bad Gateway",
    ...                         "details": "<!DOCTYPE html>..."}))[0].source   # doctest: +SKIP
    'APIError.details'

Where supabase-py 2.34 puts a response body it could not parse:
``APIError.details`` (postgrest, non-JSON error body), ``StorageApiError.message``
("Unable to parse error message: <body>"), ``JSONDecodeError.doc`` (storage list/upload
on a 200 HTML page), ``APIResponse.data`` as a str (postgrest, 200 HTML page), and
``httpx.HTTPStatusError.response``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from kit.render.pages import is_html

__all__ = ["HiddenBody", "hidden_bodies"]

STORAGE_UNPARSED = "Unable to parse error message: "
_MIN_BODY = 1  # any non-empty body found in those places is worth showing


@dataclass(frozen=True, repr=False)
class HiddenBody:
    """A body found inside an object: where (``source``), the bytes, and whether it is HTML."""

    source: str
    body: bytes
    content_type: str | None = None
    status: int | None = None

    @property
    def is_html(self) -> bool:
        return is_html(self.body)

    def __repr__(self) -> str:
        kind = "HTML" if self.is_html else "body"
        return f"<HiddenBody {kind} {len(self.body)} B from {self.source}>"


def hidden_bodies(x: Any) -> list[HiddenBody]:
    """Every body hidden in ``x`` (an exception with its cause chain, or a result), deduplicated."""
    found: list[HiddenBody] = []
    seen: set[bytes] = set()
    for item in _chain(x):
        for body in _bodies_of(item):
            if body.body and body.body not in seen:
                seen.add(body.body)
                found.append(body)
    return found


def _chain(x: Any) -> list[Any]:
    items: list[Any] = []
    current = x
    while current is not None and len(items) < 10 and all(current is not i for i in items):
        items.append(current)
        current = (current.__cause__ or current.__context__) if isinstance(current, BaseException) \
            else None
    return items


def _bodies_of(x: Any) -> list[HiddenBody]:
    name = type(x).__name__
    if isinstance(x, json.JSONDecodeError):
        return [HiddenBody("JSONDecodeError.doc", x.doc.encode("utf-8", "replace"))]
    if name == "APIError" and isinstance(getattr(x, "details", None), str):
        code = getattr(x, "code", None)
        status = int(code) if isinstance(code, str) and code.isdigit() else None
        body = x.details.encode("utf-8", "replace")
        return [HiddenBody("APIError.details", body, status=status)] if _worth(body) else []
    if name == "StorageApiError" and str(getattr(x, "message", "")).startswith(STORAGE_UNPARSED):
        status = getattr(x, "status", None)
        return [HiddenBody("StorageApiError.message",
                           x.message[len(STORAGE_UNPARSED):].encode("utf-8", "replace"),
                           status=status if isinstance(status, int) else None)]
    response = getattr(x, "response", None)
    if isinstance(x, BaseException) and response is not None and hasattr(response, "content"):
        try:
            return [HiddenBody(f"{name}.response", bytes(response.content),
                               response.headers.get("content-type"), response.status_code)]
        except httpx.ResponseNotRead:  # a streamed response that was never read
            return []
    if name in ("APIResponse", "SingleAPIResponse") and isinstance(getattr(x, "data", None), str):
        return [HiddenBody(f"{name}.data", x.data.encode("utf-8", "replace"))]
    if isinstance(x, BaseException):
        text = str(x)
        start = _html_start(text)
        if start is not None:
            return [HiddenBody(f"{name} message", text[start:].encode("utf-8", "replace"))]
    return []


def _worth(body: bytes) -> bool:
    return len(body) >= _MIN_BODY and (is_html(body) or len(body) > 200)


def _html_start(text: str) -> int | None:
    lowered = text.lower()
    for marker in ("<!doctype html", "<html"):
        index = lowered.find(marker)
        if index >= 0:
            return index
    return None

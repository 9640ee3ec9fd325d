"""Error bodies in the formats the real services answer with (pure: values in, Response out).

- gateway (Kong):  401 ``{"message": ..., "hint": ...}``
- PostgREST:       ``{"code", "message", "details", "hint"}`` + ``Proxy-Status: PostgREST; error=<code>``
- Storage:         HTTP 400 for every non-500 error, ``{"statusCode": "<real status>", "error", "message"}``
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

JSON = "application/json; charset=utf-8"


def gateway_error(message: str, hint: str, status: int = 401) -> Response:
    return Response(json.dumps({"message": message, "hint": hint}), status, media_type=JSON)


_ESCAPE = re.compile(r"\\(.)")
_SURROGATE = re.compile("[\ud800-\udfff]")
_AESON_ESCAPES = {"b": "\\u0008", "f": "\\u000c"}


def aeson_json(value: Any) -> bytes:
    """``value`` as Haskell's aeson ``encode`` writes it, which PostgREST uses for every body:
    no spaces, object keys sorted (aeson 2 ``KeyMap``), non-ASCII as raw UTF-8, only ``"``,
    ``\\``, ``\\n``, ``\\r``, ``\\t`` escaped by name and other control characters as
    ``\\u00XX`` (source: aeson ``Data.Aeson.Encoding.Builder``; PostgREST ``Error.hs``
    ``errorPayload = JSON.encode . toJsonPgrstError``)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    text = _ESCAPE.sub(lambda m: _AESON_ESCAPES.get(m.group(1), m.group(0)), text)
    return _SURROGATE.sub("\ufffd", text).encode()  # aeson's Text holds no lone surrogates


def postgrest_error(status: int, code: str, message: str, details: Any = None,
                    hint: Any = None, headers: dict[str, str] | None = None) -> Response:
    body = {"code": code, "details": details, "hint": hint, "message": message}
    all_headers = {"Proxy-Status": f"PostgREST; error={code}", **(headers or {})}
    return Response(aeson_json(body), status, headers=all_headers, media_type=JSON)


def storage_error(status_code: int, error: str, message: str, *, http_status: int | None = None,
                  code: str | None = None) -> Response:
    """Storage answers 400 for most errors below 500; the real status goes in ``statusCode``
    (routes that set a status themselves pass ``http_status``, and a ``code`` when they send one)."""
    if http_status is None:
        http_status = status_code if status_code >= 500 else 400
    body = {"statusCode": str(status_code), "error": error, "message": message}
    if code:
        body["code"] = code
    return Response(json.dumps(body), http_status, media_type=JSON)

"""Error bodies in the formats the real services answer with (pure: values in, Response out).

- gateway (Kong):  401 ``{"message": ..., "hint": ...}``
- PostgREST:       ``{"code", "message", "details", "hint"}`` + ``Proxy-Status: PostgREST; error=<code>``
- Storage:         HTTP 400 for every non-500 error, ``{"statusCode": "<real status>", "error", "message"}``
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

JSON = "application/json; charset=utf-8"


def gateway_error(message: str, hint: str, status: int = 401) -> Response:
    return Response(json.dumps({"message": message, "hint": hint}), status, media_type=JSON)


def postgrest_error(status: int, code: str, message: str, details: Any = None,
                    hint: Any = None, headers: dict[str, str] | None = None) -> Response:
    body = {"code": code, "details": details, "hint": hint, "message": message}
    all_headers = {"Proxy-Status": f"PostgREST; error={code}", **(headers or {})}
    return Response(json.dumps(body), status, headers=all_headers, media_type=JSON)


def storage_error(status_code: int, error: str, message: str, *, http_status: int | None = None) -> Response:
    """Storage answers 400 for every error below 500; the real status goes in ``statusCode``."""
    if http_status is None:
        http_status = status_code if status_code >= 500 else 400
    body = {"statusCode": str(status_code), "error": error, "message": message}
    return Response(json.dumps(body), http_status, media_type=JSON)

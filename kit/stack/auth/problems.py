"""Supabase Auth's error answers (pure: a problem in, a Response out).

Supabase Auth (GoTrue, internal/api/errors.go) answers in two shapes chosen by the request's
``X-Supabase-Api-Version`` header (supabase-py sends ``2024-01-01``):

- 2024-01-01 or later: ``{"code": "<error_code>", "message": "..."}``, the header echoed back;
- no header (older clients, curl): ``{"code": <status>, "error_code": "...", "msg": "..."}``.

Both carry ``x-sb-error-code``. A weak password adds ``"weak_password": {"reasons": [...]}``;
OAuth-style errors (``refresh_token required``) are ``{"error", "error_description"}``.

    raise AuthProblem(400, "invalid_credentials", "Invalid login credentials")
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

API_VERSION_HEADER = "X-Supabase-Api-Version"
API_VERSION = "2024-01-01"
_VERSION = re.compile(r"^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
JSON = "application/json"


class AuthProblem(Exception):
    """An error answer of /auth/v1: HTTP status, GoTrue ``error_code`` and message."""

    def __init__(self, status: int, code: str, message: str, *, reasons: list[str] | None = None,
                 oauth: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.reasons = reasons
        self.oauth = oauth  # "invalid_request" etc.: answered in the OAuth shape

    def response(self, api_version: str | None) -> Response:
        headers = {"x-sb-error-code": self.code} if self.code else {}
        if self.oauth:
            body: dict[str, Any] = {"error": self.oauth, "error_description": self.message}
        elif api_version is not None and api_version >= API_VERSION:
            headers[API_VERSION_HEADER] = API_VERSION
            body = {"code": self.code, "message": self.message}
        else:
            body = {"code": self.status, "error_code": self.code, "msg": self.message}
        if self.reasons is not None:
            body["weak_password"] = {"reasons": self.reasons}
        return Response(json.dumps(body), self.status, headers=headers, media_type=JSON)


def api_version_of(request: Request) -> str | None:
    """The request's API version when it is a valid date (GoTrue ignores anything else)."""
    value = request.headers.get(API_VERSION_HEADER, "")
    return value if _VERSION.match(value) else None


async def problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthProblem)
    return exc.response(api_version_of(request))


def database_error(exc: Exception) -> str:
    """A database error's SQLSTATE and first line, for the stack's log (never a value of a request)."""
    sqlstate = getattr(exc, "sqlstate", None) or "-"
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"{sqlstate} {first}"[:300]


async def database_problem_handler(request: Request, exc: Exception) -> Response:
    """Any other database failure: GoTrue's default 500 answer (the cause goes to the stack's log)."""
    import logging

    logging.getLogger("kit.stack").warning("auth: %s %s failed: %s", request.method, request.url.path,
                                           database_error(exc))
    return AuthProblem(500, "unexpected_failure", "Unexpected failure, please check server logs for more "
                                                  "information").response(api_version_of(request))


def invalid_credentials() -> AuthProblem:
    return AuthProblem(400, "invalid_credentials", "Invalid login credentials")


def bad_json(detail: str) -> AuthProblem:
    return AuthProblem(400, "bad_json", f"Could not parse request body as JSON: {detail}")


def validation(message: str, status: int = 400) -> AuthProblem:
    return AuthProblem(status, "validation_failed", message)


async def route_not_found(request: Request, exc: Exception) -> Response:
    """An unknown route: GoTrue's router (chi) answers a plain-text 404."""
    return Response("404 page not found\n", 404, media_type="text/plain; charset=utf-8")

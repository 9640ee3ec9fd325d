"""JSON in and out of the storage routes, in the real service's shapes.

Timestamps are written as the real service writes them (node's ``Date.toJSON``):
``2024-05-01T12:00:00.123Z``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kit.stack.context import StackContext
from kit.stack.request_input import BadInput, parse_json, text_problem
from kit.stack.roles import Auth
from kit.stack.storage import names, problems
from kit.stack.storage.blobs import BlobStore

JSON = "application/json; charset=utf-8"
SERVICE_ROLE = Auth("service_role", {"role": "service_role"})  # the service acting for itself


def iso(value: datetime | None) -> str | None:
    """``datetime(2024, 5, 1, tzinfo=utc)`` → ``'2024-05-01T00:00:00.000Z'``."""
    if value is None:
        return None
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=_default), status, headers=headers, media_type=JSON)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; a 400 "Bad Request" like the service's schema validation."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = parse_json(raw)
    except BadInput as exc:
        raise problems.StorageProblem(400, "Bad Request", f"Body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise problems.StorageProblem(400, "Bad Request", "body must be object")
    return body


INT32_MAX = 2**31 - 1


def field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], *,
          required: bool = False, default: Any = None) -> Any:
    """One body field of the given type, or a 400 naming it (``body/limit must be integer``).

    Integers must fit PostgreSQL's ``integer`` (±2147483647); text anywhere in the value must
    be storable (no NUL byte, no lone surrogate)."""
    if name not in body or body[name] is None:
        if required:
            raise problems.StorageProblem(400, "Bad Request",
                                          f"body must have required property '{name}'")
        return default
    value = body[name]
    if kind is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # storage3 sends expiresIn as a string; the real schema coerces it
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        names = {int: "integer", str: "string", bool: "boolean", list: "array", dict: "object"}
        wanted = names.get(kind, "valid") if isinstance(kind, type) else "valid"
        raise problems.StorageProblem(400, "Bad Request", f"body/{name} must be {wanted}")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT32_MAX:
        raise problems.StorageProblem(400, "Bad Request", f"body/{name} must be <= {INT32_MAX}")
    why = text_problem(value)
    if why:
        raise problems.StorageProblem(400, "Bad Request", f"body/{name} {why}")
    return value


def owner_of(auth: Auth) -> tuple[uuid.UUID | None, str | None]:
    """The ``owner`` (uuid) and ``owner_id`` (text) a caller's ``sub`` claim gives a new row."""
    sub = auth.claims.get("sub")
    if not isinstance(sub, str) or not sub:
        return None, None
    try:
        return uuid.UUID(sub), sub
    except ValueError:
        return None, sub


def services(request: Request) -> tuple[StackContext, BlobStore]:
    """The stack context and blob store the storage app was built with."""
    return request.app.state.ctx, request.app.state.blobs


def target(request: Request) -> tuple[str, str]:
    """``(bucket, key)`` from the route, the key checked (InvalidKey otherwise)."""
    return request.path_params["bucket"], names.check_key(request.path_params["key"])

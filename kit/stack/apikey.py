"""Gateway authentication as ASGI middleware: ``apikey`` required, ``Authorization`` sets the role.

Like Supabase's gateway: a request to /rest or /storage without a known ``apikey`` gets a
401 before it reaches a service; the bearer token (or the apikey when there is none) is
verified with the stack's secret and its ``role`` claim decides the database role.
The verified ``Auth`` is put in ``scope["kit.auth"]`` for the handlers.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from kit.stack.roles import Auth
from kit.stack.errors_format import gateway_error, postgrest_error, storage_error
from kit.stack.keys import API_ROLES, Keys

# Storage routes a browser opens without an apikey (public objects, signed URLs).
_KEYLESS_STORAGE = ("/storage/v1/object/public/", "/storage/v1/render/image/public/",
                    "/storage/v1/object/sign/")
_PROTECTED = ("/rest/v1", "/storage/v1", "/functions/v1")


def auth_of(scope_or_request: Any) -> Auth:
    """The verified caller of a request (anon when the route is keyless)."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    return scope.get("kit.auth") or Auth("anon", {"role": "anon"})


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, keys: Keys) -> None:
        self.app = app
        self.keys = keys
        self.known_keys = {keys.anon_key, keys.service_role_key}
        self._claims: dict[str, dict[str, Any]] = {}  # verified tokens (HS256 decode is costly)

    def _verified(self, token: str) -> dict[str, Any]:
        """``keys.decode(token)``, remembered until the token's ``exp`` (errors never are)."""
        claims = self._claims.get(token)
        if claims is not None and claims["exp"] > time.time():
            return claims
        claims = self.keys.decode(token)
        if isinstance(claims.get("exp"), (int, float)) and "nbf" not in claims:
            if len(self._claims) >= 4096:
                self._claims.clear()
            self._claims[token] = claims
        return claims

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(_PROTECTED):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        apikey = headers.get("apikey") or QueryParams(scope.get("query_string", b"")).get("apikey")
        keyless = path.startswith(_KEYLESS_STORAGE) and scope["method"] in ("GET", "HEAD")
        if not apikey and not keyless:
            await gateway_error("No API key found in request",
                                "No `apikey` request header or url param was found.")(scope, receive, send)
            return
        if apikey and apikey not in self.known_keys:
            await gateway_error("Invalid API key",
                                "Double check your Supabase `anon` or `service_role` API key."
                                )(scope, receive, send)
            return
        token = _bearer(headers.get("authorization")) or apikey
        if token:
            try:
                claims = self._verified(token)
            except jwt.ExpiredSignatureError:
                await _jwt_error(path, "JWT expired", "PGRST303", "jwt expired")(scope, receive, send)
                return
            except jwt.InvalidTokenError as exc:
                await _jwt_error(path, f"JWSError {type(exc).__name__}", "PGRST301",
                                 "invalid signature")(scope, receive, send)
                return
            role = str(claims.get("role"))
            if role not in API_ROLES:
                await _jwt_error(path, f'role "{role}" does not exist', "PGRST301",
                                 "invalid role")(scope, receive, send)
                return
            scope["kit.auth"] = Auth(role, claims)
        await self.app(scope, receive, send)


def _bearer(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


def _jwt_error(path: str, rest_message: str, rest_code: str, storage_message: str) -> Any:
    if path.startswith("/storage/"):
        return storage_error(403, "Unauthorized", storage_message)
    description = rest_message.replace('"', "'")
    return postgrest_error(401, rest_code, rest_message, headers={
        "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'})

"""Gateway authentication as ASGI middleware: ``apikey`` required, ``Authorization`` sets the role.

Like Supabase's gateway: a request to /rest, /storage or /auth without a known ``apikey``
gets a 401 before it reaches a service; for /rest and /storage the bearer token (or the
apikey when there is none) is verified with the stack's secret and its ``role`` claim decides
the database role. The verified ``Auth`` is put in ``scope["kit.auth"]`` for the handlers.
/auth checks bearer tokens itself (with its own error codes), and its verify, callback and
authorize routes are open, as in Supabase's gateway configuration.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from kit.stack.errors_format import gateway_error, postgrest_error, storage_error
from kit.stack.keys import JwtRejected, Keys
from kit.stack.roles import Auth, auth_from_claims

# Storage routes a browser opens without an apikey (public objects, signed URLs).
_KEYLESS_STORAGE = ("/storage/v1/object/public/", "/storage/v1/render/image/public/",
                    "/storage/v1/object/sign/")
_PROTECTED = ("/rest/v1", "/storage/v1", "/functions/v1", "/auth/v1")
_KEY_ONLY = "/auth/v1/"  # the apikey is checked here; the bearer token by the auth service
_OPEN_AUTH = ("/auth/v1/verify", "/auth/v1/callback", "/auth/v1/authorize")


def auth_of(scope_or_request: Any) -> Auth:
    """The verified caller of a request (anon when the route is keyless)."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    return scope.get("kit.auth") or Auth("anon", {"role": "anon"})


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, keys: Keys) -> None:
        self.app = app
        self.keys = keys
        self.known_keys = {keys.anon_key, keys.service_role_key}
        self._callers: dict[str, Auth] = {}  # verified tokens (HS256 decode is costly)

    def _verified(self, token: str) -> Auth:
        """The caller ``keys.verify(token)`` names, remembered until the token's ``exp``
        (errors never are)."""
        auth = self._callers.get(token)
        if auth is not None and auth.claims["exp"] > time.time():
            return auth
        claims = self.keys.verify(token)
        auth = auth_from_claims(claims)
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and not isinstance(exp, bool) and "nbf" not in claims:
            if len(self._callers) >= 4096:
                self._callers.clear()
            self._callers[token] = auth
        return auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(_PROTECTED) or path.startswith(_OPEN_AUTH):
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
        bearer = _bearer(headers.get("authorization"))
        token = apikey if bearer is None else bearer
        if token is not None and not path.startswith(_KEY_ONLY):
            try:
                scope["kit.auth"] = self._verified(token)
            except JwtRejected as exc:
                await _jwt_error(path, exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _bearer(value: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>`` ("" when empty), None without one."""
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip()
    if value and value.strip().lower() == "bearer":
        return ""
    return None


def _jwt_error(path: str, exc: JwtRejected) -> Any:
    if path.startswith("/storage/"):
        message = {"JWT expired": "jwt expired",
                   "JWT cryptographic operation failed": "invalid signature"}.get(exc.message, exc.message)
        return storage_error(403, "Unauthorized", message)
    description = exc.message.replace('"', "'")
    return postgrest_error(401, exc.code, exc.message, headers={
        "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'})

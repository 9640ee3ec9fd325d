"""The stack's PostgREST-compatible service, mounted by the gateway at ``/rest/v1``.

    app = build_app(ctx)      # an ASGI app: /<table>, /rpc/<function>, / (a minimal OpenAPI)

Modules: ``grammar`` (query string → AST), ``schema_cache`` (catalog snapshot),
``relations`` (embeds → foreign keys), ``sql_builder`` (AST → SQL + bound values),
``statement_cache`` (SQL rendered once per request shape), ``execution`` (one transaction
as the caller's role, one round trip when it can), ``negotiation`` (Accept, Prefer, Range,
profiles), ``answers`` (response bodies), ``handlers`` / ``functions`` (the endpoints),
``problems`` (PostgREST's error format and SQLSTATE → HTTP status).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from kit.stack.context import StackContext
from kit.stack.roles import REQUEST_LOCALS, RequestLocals

__all__ = ["RestApp", "build_app"]


class RestApp:
    """A bare ASGI app (no router or middleware of its own: the hot path stays short)."""

    def __init__(self, ctx: StackContext) -> None:
        from kit.stack.rest.handlers import RestService

        self.service = RestService(ctx)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        path = path.lstrip("/")
        # request.method / request.path / request.headers, as PostgREST sets them for SQL to read
        token = REQUEST_LOCALS.set(RequestLocals.of(scope["method"], "/" + path, scope["headers"]))
        try:
            response = await self.service.handle(Request(scope, receive), path)
        finally:
            REQUEST_LOCALS.reset(token)
        await response(scope, receive, send)


def build_app(ctx: StackContext) -> RestApp:
    """The /rest/v1 ASGI app for one stack (the gateway authenticates before it is reached)."""
    return RestApp(ctx)

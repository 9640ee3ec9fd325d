"""The stack's PostgREST-compatible service, mounted by the gateway at ``/rest/v1``.

    app = build_app(ctx)      # an ASGI app: /<table>, /rpc/<function>, / (a minimal OpenAPI)

Modules: ``grammar`` (query string → AST), ``schema_cache`` (catalog snapshot),
``relations`` (embeds → foreign keys), ``sql_builder`` (AST → SQL + bound values),
``execution`` (one pipelined transaction as the caller's role), ``negotiation`` (Accept,
Prefer, Range, profiles), ``handlers`` / ``functions`` (the endpoints), ``problems`` (errors).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from kit.stack.context import StackContext

__all__ = ["build_app"]

_METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"]


def build_app(ctx: StackContext) -> Starlette:
    """The /rest/v1 ASGI app for one stack (the gateway authenticates before it is reached)."""
    from kit.stack.rest.handlers import RestService

    service = RestService(ctx)
    routes = [Route("/{path:path}", service.handle, methods=_METHODS)]
    app = Starlette(routes=routes)
    app.state.rest = service
    return app

"""The stack's HTTP gateway: one Starlette app mounting each service under its Supabase path.

    /rest/v1      PostgREST subset        (kit.stack.rest)
    /storage/v1   Supabase Storage subset (kit.stack.storage)
    /auth/v1      Supabase Auth (GoTrue) subset (kit.stack.auth)
    /_kit         admin: health, ping and ping/db (the benchmark's floors)

Middleware, outermost first: faults (when rules are set), the edge's size limits, then
apikey/JWT authentication.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from kit.stack.apikey import ApiKeyMiddleware
from kit.stack.context import StackContext
from kit.stack.errors_format import gateway_error, postgrest_error, storage_error
from kit.stack.request_input import MAX_HEADER_BYTES, MAX_URL_BYTES
from kit.stack.round_trip import round_trip

_PONG = json.dumps({"ok": True}).encode()


async def ping(request: Request) -> Response:
    """A constant answer: the floor the stack's latency benchmark compares against."""
    return Response(_PONG, media_type="application/json")


async def ping_db(request: Request) -> Response:
    """One one-row statement on the API requests' pool through ``kit.stack.round_trip``, the
    way every /rest request reaches the database, then ``{"ok": true, "backend_pid": N}``: the
    floor no route that reads the database can go below (bench/stack.py compares select-by-id
    with it and with ``ping``)."""
    ctx: StackContext = request.app.state.ctx
    assert ctx.db.requests is not None, "the database is bootstrapped before routes are built"
    async with ctx.db.requests.connection() as conn:
        [result] = await round_trip(conn, [("SELECT pg_backend_pid()", None)])
    return Response(b'{"ok":true,"backend_pid":%d}' % result.rows[0][0], media_type="application/json")


async def health(request: Request) -> Response:
    ctx: StackContext = request.app.state.ctx
    async with ctx.db.pool.connection() as conn:
        await conn.execute("SELECT 1")
    return JSONResponse({"ok": True, "schema_generation": ctx.db.schema_generation})


class EdgeLimits:
    """What the edge refuses before a service sees it: a URL over 16 KB (414) or request
    headers over 32 KB (431), as Cloudflare in front of Supabase does; the answer is JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) > MAX_URL_BYTES:
                await gateway_error("URI Too Long", f"keep the URL under {MAX_URL_BYTES} bytes: "
                                    "send large filters in an RPC body", 414)(scope, receive, send)
                return
            if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
                await gateway_error("Request Header Fields Too Large",
                                    f"keep the request headers under {MAX_HEADER_BYTES} bytes",
                                    431)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def route_not_found(request: Request, exc: Exception) -> Response:
    """A path no mount matches (a newline in it, say), answered in the format of the service
    its prefix names: PostgREST's PGRST125, Storage's 400, else Kong's."""
    path = request.url.path
    if path.startswith("/rest/"):
        return postgrest_error(404, "PGRST125", "Invalid path specified in request URL")
    if path.startswith("/storage/"):
        return storage_error(404, "Not Found", "Route not found")
    return gateway_error("no Route matched with those values", "check the URL", 404)


def service_routes(ctx: StackContext) -> list[BaseRoute]:
    from kit.stack import auth, rest, storage

    return [
        Mount("/rest/v1", app=rest.build_app(ctx)),
        Mount("/storage/v1", app=storage.build_app(ctx)),
        Mount("/auth/v1", app=auth.build_app(ctx)),
    ]


def build_app(ctx: StackContext, *, extra_middleware: Sequence[Middleware] = ()) -> Starlette:
    from kit.faults.admin import admin_routes
    from kit.faults.engine import FaultSet
    from kit.faults.middleware import FaultMiddleware

    faults = FaultSet()  # in memory only: a restarted stack has no rules
    routes: list[BaseRoute] = [
        Mount("/_kit", routes=[Route("/ping", ping), Route("/ping/db", ping_db), Route("/health", health),
                               *admin_routes(faults, ctx.keys.service_role_key)]),
        *service_routes(ctx),
    ]
    middleware = [Middleware(FaultMiddleware, faults=faults), Middleware(EdgeLimits), *extra_middleware,
                  Middleware(ApiKeyMiddleware, keys=ctx.keys)]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: route_not_found})
    app.state.ctx = ctx
    app.state.faults = faults
    return app

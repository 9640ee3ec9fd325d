"""The embedded stack's Supabase Auth (GoTrue) API, mounted by the gateway at ``/auth/v1``.

Routes are data (``ROUTES``: path, methods, handler). Modules: ``settings`` (what is enabled),
``store`` (the SQL on the ``auth`` schema), ``users`` (the User JSON), ``passwords`` (bcrypt,
strength), ``tokens`` (sessions, JWTs, refresh rotation, bearer checks), ``mailer`` (the
local outbox), ``pkce`` (code flows), ``accounts`` / ``links`` / ``admin`` (the endpoints),
``problems`` (GoTrue's error shapes and ``error_code``s).

    app = build_app(ctx, AuthSettings.load(ctx.data_dir))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kit.stack.auth import accounts, admin, links
from kit.stack.auth.mailer import Outbox
from kit.stack.auth.problems import (
    AuthProblem,
    database_problem_handler,
    problem_handler,
    route_not_found,
)
from kit.stack.auth.service import AuthService, service_of
from kit.stack.auth.settings import AuthSettings
from kit.stack.auth.store import AuthStore
from kit.stack.context import StackContext

__all__ = ["ROUTES", "AuthSettings", "build_app"]

Handler = Callable[[Request], Awaitable[Response]]


async def health(request: Request) -> Response:
    return JSONResponse({"version": "kit", "name": "GoTrue",
                         "description": "GoTrue is a user registration and authentication API"})


async def settings(request: Request) -> Response:
    return JSONResponse(service_of(request).settings.public())


async def jwks(request: Request) -> Response:
    """HS256 secrets are never published: the key set of a symmetric-only project is empty."""
    return JSONResponse({"keys": []}, headers={"Cache-Control": "public, max-age=600"})


ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("/health", ("GET",), health),
    ("/settings", ("GET",), settings),
    ("/.well-known/jwks.json", ("GET",), jwks),
    ("/signup", ("POST",), accounts.signup),
    ("/token", ("POST",), accounts.token),
    ("/user", ("GET",), accounts.get_user),
    ("/user", ("PUT",), accounts.update_user),
    ("/logout", ("POST",), accounts.logout),
    ("/otp", ("POST",), links.otp),
    ("/magiclink", ("POST",), links.otp),
    ("/verify", ("GET", "POST"), links.verify),
    ("/recover", ("POST",), links.recover),
    ("/resend", ("POST",), links.resend),
    ("/invite", ("POST",), admin.invite),
    ("/admin/users", ("GET",), admin.list_users),
    ("/admin/users", ("POST",), admin.create_user),
    ("/admin/users/{user_id}", ("GET",), admin.get_user),
    ("/admin/users/{user_id}", ("PUT",), admin.update_user),
    ("/admin/users/{user_id}", ("DELETE",), admin.delete_user),
    ("/admin/generate_link", ("POST",), admin.generate_link),
]


def build_app(ctx: StackContext, settings: AuthSettings | None = None) -> Starlette:
    """The auth service as an ASGI app over the stack's database, keys and data directory."""
    app = Starlette(routes=[Route(path, handler, methods=list(methods)) for path, methods, handler in ROUTES],
                    exception_handlers={AuthProblem: problem_handler, psycopg.Error: database_problem_handler,
                                        404: route_not_found, 405: route_not_found})
    app.state.auth = AuthService(settings or AuthSettings.load(ctx.data_dir), ctx.keys, AuthStore(ctx.db),
                                 Outbox(ctx.data_dir))
    return app

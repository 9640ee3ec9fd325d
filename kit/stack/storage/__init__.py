"""The embedded stack's Supabase Storage API, mounted by the gateway at ``/storage/v1``.

Routes are data (``ROUTES``: path, methods, handler), compiled once by Starlette; fixed
paths come before the catch-all ``/object/{bucket}/{key}`` as in the real service.
Metadata lives in ``storage.buckets`` / ``storage.objects`` (kit/stack/sql/10_storage.sql),
bytes under ``ctx.storage_dir`` (``blobs``); errors use the real format (``problems``).

    app = build_app(ctx)        # → Starlette app, used by kit.stack.gateway
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kit.stack.context import StackContext
from kit.stack.errors_format import storage_error
from kit.stack.storage import buckets, listing, objects, problems, signing
from kit.stack.storage.blobs import BlobStore

__all__ = ["ROUTES", "build_app"]

Handler = Callable[[Request], Awaitable[Response]]
_GET = ("GET", "HEAD")
_OBJECT = "/object/{bucket}/{key:path}"

ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("/bucket", ("GET",), buckets.list_buckets),
    ("/bucket", ("POST",), buckets.create_bucket),
    ("/bucket/", ("GET",), buckets.list_buckets),
    ("/bucket/", ("POST",), buckets.create_bucket),
    ("/bucket/{bucket}/empty", ("POST",), buckets.empty_bucket),
    ("/bucket/{bucket}", ("GET",), buckets.get_bucket),
    ("/bucket/{bucket}", ("PUT",), buckets.update_bucket),
    ("/bucket/{bucket}", ("DELETE",), buckets.delete_bucket),
    ("/object/move", ("POST",), objects.move),
    ("/object/copy", ("POST",), objects.copy),
    ("/object/list/{bucket}", ("POST",), objects.list_objects),
    ("/object/list-v2/{bucket}", ("POST",), listing.list_objects_v2),
    ("/render/image/{mode}/{rest:path}", _GET, problems.image_transformation_disabled),
    ("/object/info/public/{bucket}/{key:path}", ("GET",), objects.info_public),
    ("/object/info/authenticated/{bucket}/{key:path}", ("GET",), objects.info),
    ("/object/info/{bucket}/{key:path}", ("GET",), objects.info),
    ("/object/public/{bucket}/{key:path}", _GET, objects.download_public),
    ("/object/authenticated/{bucket}/{key:path}", _GET, objects.download),
    ("/object/sign/{bucket}/{key:path}", _GET, signing.get_signed),
    ("/object/sign/{bucket}/{key:path}", ("POST",), signing.create_signed_url),
    ("/object/sign/{bucket}", ("POST",), signing.create_signed_urls),
    ("/object/upload/sign/{bucket}/{key:path}", ("POST",), signing.create_signed_upload_url),
    ("/object/upload/sign/{bucket}/{key:path}", ("PUT",), signing.upload_to_signed_url),
    ("/object/{bucket}", ("DELETE",), objects.remove),
    (_OBJECT, _GET, objects.download),
    (_OBJECT, ("POST", "PUT"), objects.upload),
    (_OBJECT, ("DELETE",), objects.remove_one),
]


def build_app(ctx: StackContext) -> Starlette:
    """The storage service as an ASGI app over the stack's database and data directory."""
    app = Starlette(
        routes=[Route(path, handler, methods=list(methods)) for path, methods, handler in ROUTES],
        exception_handlers={problems.StorageProblem: problems.problem_handler,
                            psycopg.Error: problems.database_error_handler,
                            404: _route_not_found, 405: _route_not_found},
    )
    app.router.redirect_slashes = False  # Fastify answers 404, never a 307 to "<path>/"
    app.state.ctx = ctx
    app.state.blobs = BlobStore(ctx.storage_dir)
    return app


async def _route_not_found(request: Request, exc: Exception) -> Response:
    """Storage's own not-found handler (src/http/not-found-handler.ts): a real HTTP 404 naming
    the method and the raw URL (query included), as the service behind the gateway sees it."""
    url = request.url.path.removeprefix(request.scope.get("root_path", ""))
    if request.url.query:
        url += "?" + request.url.query
    return storage_error(404, "Not Found", f"Route {request.method}:{url} not found",
                         http_status=404, code="InvalidRequest")

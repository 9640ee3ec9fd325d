"""Bucket routes: list, create, get, update, empty, delete.

Run as the caller, so RLS on ``storage.buckets`` decides: on a fresh stack (as on a fresh
Supabase project) only service_role sees and manages buckets; anon lists none and is
refused creating one (403 "new row violates row-level security policy").
"""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg import errors as pg_errors
from starlette.requests import Request
from starlette.responses import Response

from kit.stack.apikey import auth_of
from kit.stack.storage import catalog, names, problems
from kit.stack.storage.catalog import Row
from kit.stack.storage.wire import field, json_body, json_response, owner_of, services


def render_bucket(row: Row) -> dict[str, Any]:
    """A bucket as the service answers it (``owner`` is "" when no user created it)."""
    return {"id": row["id"], "name": row["name"], "owner": str(row["owner"] or ""),
            "public": row["public"], "file_size_limit": row["file_size_limit"],
            "allowed_mime_types": row["allowed_mime_types"], "type": row["type"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "public" in body:
        changes["public"] = bool(field(body, "public", bool, default=False))
    if "file_size_limit" in body:
        changes["file_size_limit"] = names.parse_size_limit(body["file_size_limit"])
    if "allowed_mime_types" in body:
        mimes = field(body, "allowed_mime_types", list, default=None)
        if mimes is not None and not all(isinstance(m, str) and "/" in m for m in mimes):
            raise problems.StorageProblem(400, "Bad Request", "body/allowed_mime_types must be an "
                                                              "array of types like image/png or image/*")
        changes["allowed_mime_types"] = mimes or None
    return changes


async def list_buckets(request: Request) -> Response:
    ctx, _ = services(request)
    async with ctx.db.transaction(auth_of(request)) as conn:
        rows = await catalog.list_buckets(conn)
    return json_response([render_bucket(r) for r in rows])


async def create_bucket(request: Request) -> Response:
    """POST ``/bucket`` ``{"id", "name", "public", "file_size_limit", "allowed_mime_types"}``."""
    ctx, _ = services(request)
    body = await json_body(request)
    name = field(body, "name", str, required=True)
    bucket_id = names.check_bucket_name(field(body, "id", str, default=name))
    names.check_bucket_name(name)
    settings = _settings(body)
    auth = auth_of(request)
    async with ctx.db.transaction(auth) as conn:
        await catalog.insert_bucket(conn, bucket_id, name, owner_of(auth),
                                    settings.get("public", False), settings.get("file_size_limit"),
                                    settings.get("allowed_mime_types"))
    return json_response({"name": bucket_id})


async def get_bucket(request: Request) -> Response:
    ctx, _ = services(request)
    async with ctx.db.transaction(auth_of(request)) as conn:
        row = await catalog.get_bucket(conn, request.path_params["bucket"])
    if row is None:
        raise problems.no_such_bucket()
    return json_response(render_bucket(row))


async def update_bucket(request: Request) -> Response:
    ctx, _ = services(request)
    settings = _settings(await json_body(request))
    async with ctx.db.transaction(auth_of(request)) as conn:
        if not await catalog.update_bucket(conn, request.path_params["bucket"], settings):
            raise problems.no_such_bucket()
    return json_response({"message": "Successfully updated"})


async def empty_bucket(request: Request) -> Response:
    ctx, store = services(request)
    bucket_id = request.path_params["bucket"]
    async with ctx.db.transaction(auth_of(request)) as conn:
        if await catalog.get_bucket(conn, bucket_id) is None:
            raise problems.no_such_bucket()
        rows = await catalog.delete_all_objects(conn, bucket_id)
    await asyncio.to_thread(store.delete, *(r["version"] for r in rows))
    return json_response({"message": "Successfully emptied"})


async def delete_bucket(request: Request) -> Response:
    ctx, _ = services(request)
    try:
        async with ctx.db.transaction(auth_of(request)) as conn:
            if not await catalog.delete_bucket(conn, request.path_params["bucket"]):
                raise problems.no_such_bucket()
    except pg_errors.ForeignKeyViolation:
        raise problems.bucket_not_empty() from None
    return json_response({"message": "Successfully deleted"})

"""Object routes: upload, update, download, info, list, remove, move, copy.

Access is decided as on Supabase: the caller's transaction (``ctx.db.transaction(auth)``)
runs the statement the operation needs, and RLS on ``storage.objects`` allows it or not.
Uploads test the caller's permission first (a rolled-back insert, as the real service
does), then stream the bytes, then record the row and move the bytes into place in one
transaction, so a failure at any step leaves neither a row without bytes nor bytes in view.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import Response

from kit.stack.apikey import auth_of
from kit.stack.roles import Auth
from kit.stack.storage import bodies, catalog, delivery, names, problems
from kit.stack.storage.wire import (
    SERVICE_ROLE,
    field,
    iso,
    json_body,
    json_response,
    owner_of,
    services,
    target,
)


async def upload(request: Request) -> Response:
    """POST creates (``x-upsert: true`` overwrites), PUT replaces: ``{"Id", "Key"}``."""
    bucket_id, key = target(request)
    auth = auth_of(request)
    upsert = request.method == "PUT" or request.headers.get("x-upsert", "").lower() == "true"
    row = await store_upload(request, bucket_id, key, caller=auth, owner=owner_of(auth),
                             upsert=upsert)
    return json_response({"Id": str(row["id"]), "Key": f"{bucket_id}/{key}"})


async def store_upload(request: Request, bucket_id: str, key: str, *, caller: Auth,
                       owner: tuple[uuid.UUID | None, str | None], upsert: bool) -> catalog.Row:
    """Probe the caller's right to write, stream the body, then record row and bytes at once."""
    ctx, store = services(request)
    declared = request.headers.get("content-length", "")
    probe_meta = {"mimetype": request.headers.get("content-type", ""),
                  "contentLength": int(declared) if declared.isdigit() else None}
    try:
        async with ctx.db.transaction(caller) as conn:  # may the caller write it? (rolled back)
            bucket = await catalog.bucket_limits(conn, bucket_id)
            if bucket is None:
                raise problems.no_such_bucket()
            await catalog.write_object(conn, bucket_id=bucket_id, name=key, version="probe",
                                       owner=owner, metadata=probe_meta, user_metadata=None,
                                       upsert=upsert)
            raise psycopg.Rollback()
    except (problems.StorageProblem, psycopg.Error):
        await bodies.BodyReader(request).drain()  # refused before a byte was kept: answer cleanly
        raise
    body = await bodies.read_upload(request, store, limit=names.upload_limit(bucket["file_size_limit"]),
                                    allowed_mime_types=bucket["allowed_mime_types"])
    version = store.new_version()
    metadata = {"eTag": body.writer.etag, "size": body.writer.size, "mimetype": body.mimetype,
                "cacheControl": body.cache_control, "lastModified": iso(datetime.now(timezone.utc)),
                "contentLength": body.writer.size, "httpStatusCode": 200}
    replaced: str | None = None
    with body.writer:
        try:
            async with ctx.db.transaction(SERVICE_ROLE) as conn:
                await catalog.lock_name(conn, bucket_id, key)
                current = await catalog.get_object(conn, bucket_id, key, for_update=True)
                if current is not None and not upsert:
                    raise problems.duplicate()
                row = await catalog.write_object(conn, bucket_id=bucket_id, name=key,
                                                 version=version, owner=owner, metadata=metadata,
                                                 user_metadata=body.user_metadata, upsert=upsert)
                await asyncio.to_thread(body.writer.commit, version)
                replaced = current["version"] if current else None
        except BaseException:
            if body.writer.committed is not None:  # bytes moved in, but the row was not kept
                store.delete(version)
            raise
    if replaced and replaced != version:
        await asyncio.to_thread(store.delete, replaced)
    return row


async def download(request: Request) -> Response:
    """GET/HEAD ``/object/{bucket}/{key}`` and ``/object/authenticated/...``: as the caller."""
    ctx, store = services(request)
    bucket_id, key = target(request)
    async with ctx.db.transaction(auth_of(request)) as conn:
        row = await catalog.get_object(conn, bucket_id, key)
    if row is None:
        raise problems.no_such_key()
    return delivery.respond(request, store, row)


async def download_public(request: Request) -> Response:
    """GET/HEAD ``/object/public/{bucket}/{key}``: public buckets only, no key needed."""
    ctx, store = services(request)
    bucket_id, key = target(request)
    async with ctx.db.transaction(SERVICE_ROLE) as conn:
        await _require_public_bucket(conn, bucket_id)
        row = await catalog.get_object(conn, bucket_id, key)
    if row is None:
        raise problems.no_such_key()
    return delivery.respond(request, store, row)


async def _require_public_bucket(conn: Any, bucket_id: str) -> None:
    """Public routes serve public buckets only; any other bucket does not exist for them."""
    bucket = await catalog.get_bucket(conn, bucket_id)
    if bucket is None or not bucket["public"]:
        raise problems.no_such_bucket()


async def info(request: Request) -> Response:
    """GET ``/object/info/{bucket}/{key}`` (what storage3's ``info()``/``exists()`` call)."""
    return await _info(request, public=False)


async def info_public(request: Request) -> Response:
    """GET ``/object/info/public/{bucket}/{key}``."""
    return await _info(request, public=True)


async def _info(request: Request, *, public: bool) -> Response:
    ctx, _ = services(request)
    bucket_id, key = target(request)
    async with ctx.db.transaction(SERVICE_ROLE if public else auth_of(request)) as conn:
        if public:
            await _require_public_bucket(conn, bucket_id)
        row = await catalog.get_object(conn, bucket_id, key)
    if row is None:
        raise problems.no_such_key()
    meta: dict[str, Any] = row["metadata"] or {}
    headers = delivery.object_headers(row)
    body = {"id": row["id"], "name": row["name"], "version": row["version"],
            "bucket_id": row["bucket_id"], "size": meta.get("size"),
            "content_type": meta.get("mimetype"), "cache_control": meta.get("cacheControl"),
            "etag": meta.get("eTag"), "metadata": row["user_metadata"],
            "last_modified": row["updated_at"], "created_at": row["created_at"]}
    return json_response(body, headers={k: headers[k] for k in ("etag", "cache-control",
                                                                 "last-modified") if k in headers})


async def list_objects(request: Request) -> Response:
    """POST ``/object/list/{bucket}``: one level under ``prefix``, folders with null ids."""
    ctx, _ = services(request)
    bucket_id = request.path_params["bucket"]
    body = await json_body(request)
    prefix = field(body, "prefix", str, default="")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if "\x00" in prefix:
        raise problems.StorageProblem(400, "Bad Request", "body/prefix must not contain NUL")
    limit = field(body, "limit", int, default=100)
    offset = field(body, "offset", int, default=0)
    if limit < 0 or offset < 0:
        raise problems.StorageProblem(400, "Bad Request", "body/limit and body/offset must be >= 0")
    search = field(body, "search", str, default="")
    sort_by = field(body, "sortBy", dict, default={})
    column = str(sort_by.get("column") or "name")
    order = str(sort_by.get("order") or "asc")
    async with ctx.db.transaction(auth_of(request)) as conn:
        rows = await catalog.search(conn, bucket_id, prefix, limit=min(limit, 10_000),
                                    offset=offset, search=search.replace("\x00", ""),
                                    column=column, order=order)
    return json_response(rows)


async def remove(request: Request) -> Response:
    """DELETE ``/object/{bucket}`` with ``{"prefixes": [...]}``: the deleted rows."""
    ctx, store = services(request)
    bucket_id = request.path_params["bucket"]
    prefixes = field(await json_body(request), "prefixes", list, required=True)
    if not prefixes or not all(isinstance(p, str) for p in prefixes):
        raise problems.StorageProblem(400, "Bad Request",
                                      "body/prefixes must be a non-empty array of strings")
    async with ctx.db.transaction(auth_of(request)) as conn:
        rows = await catalog.delete_objects(conn, bucket_id, [p.replace("\x00", "") for p in prefixes])
    await asyncio.to_thread(store.delete, *(r["version"] for r in rows))
    return json_response(rows)


async def remove_one(request: Request) -> Response:
    """DELETE ``/object/{bucket}/{key}``."""
    ctx, store = services(request)
    bucket_id, key = target(request)
    async with ctx.db.transaction(auth_of(request)) as conn:
        rows = await catalog.delete_objects(conn, bucket_id, [key])
    if not rows:
        raise problems.no_such_key()
    await asyncio.to_thread(store.delete, *(r["version"] for r in rows))
    return json_response({"message": "Successfully deleted"})


async def _move_args(request: Request) -> tuple[str, str, str, str]:
    body = await json_body(request)
    bucket_id = field(body, "bucketId", str, required=True)
    source = names.check_key(field(body, "sourceKey", str, required=True))
    destination = names.check_key(field(body, "destinationKey", str, required=True))
    return bucket_id, source, field(body, "destinationBucket", str, default=bucket_id), destination


async def move(request: Request) -> Response:
    """POST ``/object/move``: rename (the bytes stay where they are, named by version)."""
    ctx, _ = services(request)
    bucket_id, source, dest_bucket, destination = await _move_args(request)
    async with ctx.db.transaction(auth_of(request)) as conn:  # unknown bucket: FK → 404
        if not await catalog.rename_object(conn, bucket_id, source, dest_bucket, destination):
            raise problems.no_such_key()
    return json_response({"message": "Successfully moved"})


async def copy(request: Request) -> Response:
    """POST ``/object/copy``: a new object (new id and version) with a copy of the bytes."""
    ctx, store = services(request)
    bucket_id, source, dest_bucket, destination = await _move_args(request)
    auth = auth_of(request)
    upsert = request.headers.get("x-upsert", "").lower() == "true"
    version = store.new_version()
    replaced: str | None = None
    try:
        async with ctx.db.transaction(auth) as conn:
            row = await catalog.get_object(conn, bucket_id, source)
            if row is None or not store.exists(row["version"] or ""):
                raise problems.no_such_key()
            await catalog.lock_name(conn, dest_bucket, destination)
            current = await catalog.get_object(conn, dest_bucket, destination)
            await asyncio.to_thread(store.copy, row["version"], version)
            meta = dict(row["metadata"] or {}, lastModified=iso(datetime.now(timezone.utc)))
            await catalog.write_object(conn, bucket_id=dest_bucket, name=destination,
                                       version=version, owner=owner_of(auth), metadata=meta,
                                       user_metadata=row["user_metadata"], upsert=upsert)
            replaced = current["version"] if current else None
    except BaseException:
        store.delete(version)
        raise
    if replaced:
        await asyncio.to_thread(store.delete, replaced)
    return json_response({"Key": f"{dest_bucket}/{destination}"})

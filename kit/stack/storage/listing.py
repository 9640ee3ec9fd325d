"""``POST /object/list-v2/{bucket}``: S3-like listing with folders, cursors and ``hasNext``.

Body (all optional): ``prefix`` (raw name prefix, not forced to a folder), ``limit`` (1..1000,
default 1000), ``with_delimiter`` (collapse everything below the next ``/`` into one folder
entry ``prefix.../``), ``cursor`` (the previous answer's ``nextCursor``), ``sortBy``
``{"column": "name"|"created_at"|"updated_at", "order": "asc"|"desc"}``.

Answer: ``{"hasNext": bool, "folders": [...], "objects": [...]}`` plus ``nextCursor`` and
``nextCursorKey`` when there is a next page. Cursors are Storage's own continuation tokens:
base64 of ``l:<last name>\\no:<order>\\nc:<column>\\na:<last column value>`` lines. With the
delimiter, entries carry ``key`` (their path segment at the prefix's level) and a folder's
timestamps are the newest/oldest of its contents. Facts from supabase/storage
(src/storage/object.ts ``listObjectsV2``, src/storage/database/pg.ts,
src/http/routes/object/listObjectsV2.ts, migrations 0050 ``search_v2``); RLS applies (the
caller's role reads ``storage.objects``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kit.stack.apikey import auth_of
from kit.stack.storage import problems
from kit.stack.storage.catalog import Row, _all
from kit.stack.storage.wire import field, iso, json_body, json_response, services

MAX_KEYS = 1000
_TOKEN_PARTS = {"l": "after_name", "o": "order", "c": "column", "a": "after_value"}
_COLUMNS = ("name", "created_at", "updated_at")


async def list_objects_v2(request: Request) -> Response:
    ctx, _ = services(request)
    body = await json_body(request)
    prefix = field(body, "prefix", str, default="")
    limit = field(body, "limit", int, default=MAX_KEYS)
    if limit < 1:
        raise problems.StorageProblem(400, "Bad Request", "body/limit must be >= 1")
    delimited = field(body, "with_delimiter", bool, default=False)
    sort_by = field(body, "sortBy", dict, default={})
    column, order = sort_by.get("column", "name"), sort_by.get("order", "asc")
    if column not in _COLUMNS:
        raise problems.StorageProblem(400, "Bad Request", "body/sortBy/column must be equal to one "
                                                          "of the allowed values: " + ", ".join(_COLUMNS))
    if order not in ("asc", "desc"):
        raise problems.StorageProblem(400, "Bad Request", "body/sortBy/order must be equal to one "
                                                          "of the allowed values: asc, desc")
    token = field(body, "cursor", str, default="")
    cursor = decode_cursor(token) if token else {}
    column, order = cursor.get("column", column), cursor.get("order", order)
    limit = min(limit, MAX_KEYS)
    async with ctx.db.transaction(auth_of(request)) as conn:
        rows = await _all(conn, _sql(delimited, column, order, cursor), {
            "bucket": request.path_params["bucket"], "prefix_length": len(prefix),
            "pattern": _escape_like(prefix) + "%", "after_name": cursor.get("after_name", ""),
            "after_value": cursor.get("after_value") or None, "limit": limit + 1})
    return json_response(page(rows, limit, prefix, delimited, column, order))


def page(rows: list[Row], limit: int, prefix: str, delimited: bool, column: str,
         order: str) -> dict[str, Any]:
    """The answer for ``rows`` fetched with ``limit + 1`` (the extra row means ``hasNext``)."""
    shown = rows[:limit]
    levels = len(prefix.split("/"))
    folders: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    for row in shown:
        entry = dict(row)
        if delimited:
            entry["key"] = entry["name"].split("/")[levels - 1] if entry["name"] else ""
        (folders if entry["id"] is None else objects).append(entry)
    answer: dict[str, Any] = {"hasNext": len(rows) > limit, "folders": folders, "objects": objects}
    if len(rows) > limit:
        last = shown[-1]
        value = last.get(column) if column != "name" else None
        answer["nextCursor"] = encode_cursor(last["name"], order, column if column != "name" else "",
                                             (iso(value) or "") if isinstance(value, datetime) else "")
        answer["nextCursorKey"] = last["name"]
    return answer


def encode_cursor(after_name: str, order: str, column: str, after_value: str) -> str:
    values = {"l": after_name, "o": order, "c": column, "a": after_value}
    return base64.b64encode("\n".join(f"{k}:{v}" for k, v in values.items() if v).encode()).decode()


def decode_cursor(token: str) -> dict[str, str]:
    """A continuation token's parts, or 400 ``Invalid Parameter continuation token``."""
    try:
        text = base64.b64decode(token, validate=False).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = "\x00"
    parts: dict[str, str] = {}
    for line in text.split("\n"):
        key, colon, value = line.partition(":")
        if not colon or key not in _TOKEN_PARTS or "\x00" in value:
            raise problems.StorageProblem(400, "InvalidParameter",
                                          "Invalid Parameter continuation token")
        parts[_TOKEN_PARTS[key]] = value
    if parts.get("order", "asc") not in ("asc", "desc") or parts.get("column", "name") not in _COLUMNS:
        raise problems.StorageProblem(400, "InvalidParameter", "Invalid Parameter continuation token")
    return parts


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sql(delimited: bool, column: str, order: str, cursor: dict[str, str]) -> str:
    """Entries (folders collapsed when ``delimited``) after the cursor, in the asked order."""
    direction = "ASC" if order == "asc" else "DESC"
    after = ">" if order == "asc" else "<"
    folder = ("CASE WHEN position('/' IN substr(name, %(prefix_length)s + 1)) > 0 THEN "
              "left(name, %(prefix_length)s + position('/' IN substr(name, %(prefix_length)s + 1))) "
              "END") if delimited else "NULL::text"
    where, sort = "TRUE", f'name COLLATE "C" {direction}'
    if column != "name":
        sort = f"date_trunc('milliseconds', {column}) {direction}, {sort}"
    if cursor and column != "name" and cursor.get("after_value"):
        where = (f"ROW(date_trunc('milliseconds', {column}), name COLLATE \"C\") {after} "
                 "ROW(%(after_value)s::timestamptz, %(after_name)s::text)")
    elif cursor:
        where = f'name COLLATE "C" {after} %(after_name)s'
    return f"""
        WITH matching AS (
          SELECT id, name, metadata, updated_at, created_at, last_accessed_at, {folder} AS folder
          FROM storage.objects
          WHERE bucket_id = %(bucket)s AND name LIKE %(pattern)s
        ), entries AS (
          SELECT NULL::uuid AS id, folder AS name, NULL::jsonb AS metadata,
                 max(updated_at) AS updated_at, min(created_at) AS created_at,
                 max(last_accessed_at) AS last_accessed_at
          FROM matching WHERE folder IS NOT NULL GROUP BY folder
          UNION ALL
          SELECT id, name, metadata, updated_at, created_at, last_accessed_at
          FROM matching WHERE folder IS NULL
        )
        SELECT * FROM entries WHERE {where} ORDER BY {sort} LIMIT %(limit)s"""

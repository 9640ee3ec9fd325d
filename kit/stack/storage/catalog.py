"""The SQL the storage routes run on ``storage.buckets`` and ``storage.objects``.

Every function takes a connection already inside ``ctx.db.transaction(auth)``, so the
caller's role and RLS policies decide what each statement sees and may change. Values
are always bound parameters; the only identifiers are fixed column names.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

Row = dict[str, Any]
BUCKET_COLUMNS = ("id, name, owner, public, file_size_limit, allowed_mime_types, type, "
                  "created_at, updated_at")
OBJECT_COLUMNS = ("id, bucket_id, name, owner, owner_id, version, metadata, user_metadata, "
                  "created_at, updated_at, last_accessed_at")


async def _one(conn: AsyncConnection[Any], sql: str, params: tuple[Any, ...]) -> Row | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchone()


async def _all(conn: AsyncConnection[Any], sql: str,
               params: tuple[Any, ...] | dict[str, Any]) -> list[Row]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


# buckets ------------------------------------------------------------------------------------

async def get_bucket(conn: AsyncConnection[Any], bucket_id: str) -> Row | None:
    return await _one(conn, f"SELECT {BUCKET_COLUMNS} FROM storage.buckets WHERE id = %s",
                      (bucket_id,))


async def bucket_limits(conn: AsyncConnection[Any], bucket_id: str) -> Row | None:
    """``file_size_limit`` and ``allowed_mime_types`` of a bucket, even one RLS hides."""
    return await _one(conn, "SELECT file_size_limit, allowed_mime_types "
                            "FROM kit_meta.storage_bucket_limits(%s)", (bucket_id,))


async def list_buckets(conn: AsyncConnection[Any]) -> list[Row]:
    return await _all(conn, f"SELECT {BUCKET_COLUMNS} FROM storage.buckets ORDER BY name", ())


async def insert_bucket(conn: AsyncConnection[Any], bucket_id: str, name: str,
                        owner: tuple[uuid.UUID | None, str | None], public: bool,
                        file_size_limit: int | None, allowed_mime_types: list[str] | None) -> None:
    await conn.execute(
        "INSERT INTO storage.buckets (id, name, owner, owner_id, public, file_size_limit, "
        "allowed_mime_types) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (bucket_id, name, owner[0], owner[1], public, file_size_limit, allowed_mime_types))


async def update_bucket(conn: AsyncConnection[Any], bucket_id: str, changes: dict[str, Any]) -> bool:
    """Apply ``public`` / ``file_size_limit`` / ``allowed_mime_types``; False when not found."""
    allowed = ("public", "file_size_limit", "allowed_mime_types")
    columns = [c for c in allowed if c in changes]
    sets = ", ".join([f"{c} = %s" for c in columns] + ["updated_at = now()"])
    row = await _one(conn, f"UPDATE storage.buckets SET {sets} WHERE id = %s RETURNING id",
                     (*[changes[c] for c in columns], bucket_id))
    return row is not None


async def delete_bucket(conn: AsyncConnection[Any], bucket_id: str) -> bool:
    row = await _one(conn, "DELETE FROM storage.buckets WHERE id = %s RETURNING id", (bucket_id,))
    return row is not None


# objects ------------------------------------------------------------------------------------

async def lock_name(conn: AsyncConnection[Any], bucket_id: str, name: str) -> None:
    """Serialise writers of one object name until the transaction ends (so a replaced
    version is always seen, and its bytes deleted, even when two uploads race)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 42))",
                       (f"{bucket_id}/{name}",))


async def get_object(conn: AsyncConnection[Any], bucket_id: str, name: str, *,
                     for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    return await _one(conn, f"SELECT {OBJECT_COLUMNS} FROM storage.objects "
                            f"WHERE bucket_id = %s AND name = %s{lock}", (bucket_id, name))


async def visible_names(conn: AsyncConnection[Any], bucket_id: str, names: list[str]) -> set[str]:
    rows = await _all(conn, "SELECT name FROM storage.objects WHERE bucket_id = %s "
                            "AND name = ANY(%s)", (bucket_id, names))
    return {r["name"] for r in rows}


async def write_object(conn: AsyncConnection[Any], *, bucket_id: str, name: str, version: str,
                       owner: tuple[uuid.UUID | None, str | None], metadata: dict[str, Any],
                       user_metadata: dict[str, Any] | None, upsert: bool) -> Row:
    """Insert the object's row (or replace it when ``upsert``); returns the stored row."""
    conflict = (" ON CONFLICT (bucket_id, name) DO UPDATE SET version = excluded.version, "
                "owner = excluded.owner, owner_id = excluded.owner_id, "
                "metadata = excluded.metadata, user_metadata = excluded.user_metadata, "
                "last_accessed_at = now()") if upsert else ""
    row = await _one(
        conn,
        "INSERT INTO storage.objects (bucket_id, name, owner, owner_id, version, metadata, "
        f"user_metadata) VALUES (%s, %s, %s, %s, %s, %s, %s){conflict} RETURNING {OBJECT_COLUMNS}",
        (bucket_id, name, owner[0], owner[1], version, Jsonb(metadata),
         Jsonb(user_metadata) if user_metadata is not None else None))
    assert row is not None
    return row


async def delete_objects(conn: AsyncConnection[Any], bucket_id: str, names: list[str]) -> list[Row]:
    return await _all(conn, f"DELETE FROM storage.objects WHERE bucket_id = %s AND name = ANY(%s) "
                            f"RETURNING {OBJECT_COLUMNS}", (bucket_id, names))


async def delete_all_objects(conn: AsyncConnection[Any], bucket_id: str) -> list[Row]:
    return await _all(conn, "DELETE FROM storage.objects WHERE bucket_id = %s RETURNING version",
                      (bucket_id,))


async def rename_object(conn: AsyncConnection[Any], bucket_id: str, name: str,
                        new_bucket_id: str, new_name: str) -> bool:
    row = await _one(conn, "UPDATE storage.objects SET bucket_id = %s, name = %s, "
                           "last_accessed_at = now() WHERE bucket_id = %s AND name = %s "
                           "RETURNING id", (new_bucket_id, new_name, bucket_id, name))
    return row is not None


async def search(conn: AsyncConnection[Any], bucket_id: str, prefix: str, *, limit: int,
                 offset: int, search: str, column: str, order: str) -> list[Row]:
    """One folder level, as ``storage.search`` (folders first, with null ids)."""
    levels = len(prefix.split("/")) if prefix else 1
    return await _all(conn, "SELECT name, id, updated_at, created_at, last_accessed_at, metadata "
                            "FROM storage.search(%s, %s, %s, %s, %s, %s, %s, %s)",
                      (prefix, bucket_id, limit, levels, offset, search, column, order))

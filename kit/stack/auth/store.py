"""The SQL of /auth/v1 on ``auth.users``, ``auth.identities``, ``auth.sessions``,
``auth.refresh_tokens`` and ``auth.mfa_amr_claims`` (kit/stack/sql/05_auth.sql).

Supabase Auth connects as its own login (``supabase_auth_admin``, here ``kit_auth_admin``):
no API role and no superuser, all rights on the ``auth`` schema. Every connection comes from
``AuthStore.transaction()`` or ``AuthStore.connection()`` (autocommit, for the sign-in's
two statements): the one place that decides how the auth service reaches the database.
Values are bound parameters; column names come from fixed sets in this module.

    async with store.transaction() as conn:
        user = await find_user(conn, email="a@example.com")
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from kit.stack.database import Database
from kit.stack.roles import RequestPool

Row = dict[str, Any]
Conn = AsyncConnection[Any]

USER_COLUMNS = frozenset({
    "aud", "role", "email", "encrypted_password", "email_confirmed_at", "invited_at",
    "confirmation_token", "confirmation_sent_at", "recovery_token", "recovery_sent_at",
    "email_change_token_new", "email_change", "email_change_sent_at", "last_sign_in_at",
    "raw_app_meta_data", "raw_user_meta_data", "updated_at", "phone", "phone_confirmed_at",
    "banned_until", "deleted_at", "is_anonymous", "email_change_token_current",
    "email_change_confirm_status"})
TOKEN_COLUMNS = ("confirmation_token", "recovery_token", "email_change_token_new")


class AuthStore:
    """The auth service's way into the database: its own login (``kit.stack.roles``
    ``prepare_auth_admin_role``, Supabase's ``supabase_auth_admin``) on a ``RequestPool``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pool: RequestPool | None = None

    def _connections(self) -> RequestPool:
        if self._pool is None:  # made in the server's loop, on the first request
            assert self.db.auth_login, "Database.open bootstraps before requests are served"
            self._pool = RequestPool(self.db.auth_login, max_size=16)
        return self._pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        """A connection where each statement commits on its own (no BEGIN/COMMIT round trips)."""
        async with self._connections().connection() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        # pipeline mode: statements whose results are not read go out with the next one that is
        async with self._connections().connection() as conn, conn.pipeline(), conn.transaction():
            yield conn


async def fetch_one(conn: Conn, query: str | sql.Composed,
                    params: tuple[Any, ...] | dict[str, Any] = ()) -> Row | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchone()


async def _all(conn: Conn, query: str, params: tuple[Any, ...] = ()) -> list[Row]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


def _value(column: str, value: Any) -> Any:
    return Jsonb(value) if column.startswith("raw_") and value is not None else value


# users ---------------------------------------------------------------------------------------

async def find_user(conn: Conn, *, user_id: str | uuid.UUID | None = None, email: str | None = None,
                    token: tuple[str, str] | None = None, lock: bool = False) -> Row | None:
    """A user by id, by email (case-insensitive) or by ``(token column, token hash)``."""
    if user_id is not None:
        where, params = "id = %s", (str(user_id),)
    elif email is not None:
        where, params = "lower(email) = lower(%s)", (email,)
    elif token is not None and token[0] in TOKEN_COLUMNS and token[1]:
        where, params = f"{token[0]} = %s", (token[1],)
    else:
        return None
    suffix = " FOR UPDATE" if lock else ""
    return await fetch_one(conn, f"SELECT * FROM auth.users WHERE {where} AND deleted_at IS NULL{suffix}",
                           params)


async def insert_user(conn: Conn, **values: Any) -> Row:
    columns = [c for c in values if c in USER_COLUMNS or c == "id"]
    query = sql.SQL("INSERT INTO auth.users ({}) VALUES ({}) RETURNING *").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    row = await fetch_one(conn, query, tuple(_value(c, values[c]) for c in columns))
    assert row is not None
    return row


async def update_user(conn: Conn, user_id: uuid.UUID, **values: Any) -> Row:
    unknown = set(values) - USER_COLUMNS
    if unknown:
        raise ValueError(f"not auth.users columns: {sorted(unknown)}")
    values.setdefault("updated_at", datetime.now().astimezone())
    query = sql.SQL("UPDATE auth.users SET {} WHERE id = %s RETURNING *").format(
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in values))
    row = await fetch_one(conn, query, (*(_value(c, v) for c, v in values.items()), str(user_id)))
    assert row is not None
    return row


def merged_metadata(current: dict[str, Any] | None, updates: dict[str, Any]) -> dict[str, Any]:
    """GoTrue's metadata update: keys are set, ``None`` values delete keys, others stay."""
    merged = dict(current or {})
    for key, value in updates.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


async def list_users(conn: Conn, aud: str, page: int, per_page: int) -> tuple[list[Row], int]:
    rows = await _all(conn, "SELECT * FROM auth.users WHERE aud = %s AND deleted_at IS NULL "
                            "ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
                      (aud, per_page, (page - 1) * per_page))
    total = await fetch_one(conn, "SELECT count(*) AS n FROM auth.users WHERE aud = %s AND deleted_at IS NULL",
                            (aud,))
    return rows, int(total["n"]) if total else 0


async def delete_user(conn: Conn, user_id: uuid.UUID, *, soft: bool) -> None:
    if soft:
        await conn.execute("UPDATE auth.users SET deleted_at = now(), email = NULL, phone = NULL, "
                           "encrypted_password = '', raw_user_meta_data = '{}' WHERE id = %s", (str(user_id),))
        await conn.execute("DELETE FROM auth.identities WHERE user_id = %s", (str(user_id),))
        await conn.execute("DELETE FROM auth.sessions WHERE user_id = %s", (str(user_id),))
    else:
        await conn.execute("DELETE FROM auth.users WHERE id = %s", (str(user_id),))


# identities ----------------------------------------------------------------------------------

async def identities_of(conn: Conn, user_id: uuid.UUID) -> list[Row]:
    return await _all(conn, "SELECT * FROM auth.identities WHERE user_id = %s ORDER BY created_at",
                      (str(user_id),))


async def upsert_identity(conn: Conn, user_id: uuid.UUID, provider: str, data: dict[str, Any]) -> None:
    """The user's identity for ``provider``, its ``identity_data`` merged with ``data``."""
    await conn.execute(
        "INSERT INTO auth.identities (provider_id, user_id, identity_data, provider) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (provider_id, provider) DO UPDATE SET identity_data = "
        "auth.identities.identity_data || excluded.identity_data, updated_at = now()",
        (str(user_id), str(user_id), Jsonb(data), provider))


# sessions and refresh tokens -----------------------------------------------------------------

_IDENTITIES = ("coalesce((SELECT json_agg(i ORDER BY i.created_at) FROM auth.identities i "
               "WHERE i.user_id = u.id), '[]') AS kit_identities")


async def create_session(conn: Conn, user_id: uuid.UUID, method: str, user_agent: str | None,
                         ip: str | None, timebox: int, refresh_token: str) -> tuple[uuid.UUID, Row]:
    """A new session (ending after ``timebox`` seconds when not 0) signed in by ``method``, with
    its first refresh token; ``last_sign_in_at`` is now. One statement (atomic on its own),
    answering the session id and the user row with ``kit_identities``."""
    session_id = uuid.uuid4()
    row = await fetch_one(
        conn,
        "WITH s AS (INSERT INTO auth.sessions (id, user_id, aal, user_agent, ip, not_after, refreshed_at) "
        "  VALUES (%(s)s, %(u)s, 'aal1', %(ua)s, %(ip)s, CASE WHEN %(box)s > 0 THEN now() + "
        "  make_interval(secs => %(box)s) END, now() AT TIME ZONE 'utc') RETURNING id), "
        "a AS (INSERT INTO auth.mfa_amr_claims (session_id, authentication_method) SELECT id, %(m)s FROM s), "
        "t AS (INSERT INTO auth.refresh_tokens (token, user_id, revoked, session_id) "
        "  SELECT %(t)s, %(u)s, false, id FROM s), "
        "u AS (UPDATE auth.users SET last_sign_in_at = now() WHERE id = %(u)s RETURNING *) "
        f"SELECT u.*, {_IDENTITIES} FROM u",
        {"s": str(session_id), "u": str(user_id), "ua": user_agent, "ip": ip, "box": timebox, "m": method,
         "t": refresh_token})
    assert row is not None
    return session_id, row


async def session_of(conn: Conn, session_id: str) -> Row | None:
    return await fetch_one(conn, "SELECT * FROM auth.sessions WHERE id = %s", (session_id,))


async def user_with_session_claims(conn: Conn, user_id: uuid.UUID, session_id: uuid.UUID) -> Row:
    """The user row plus ``kit_amr`` (the session's ``amr`` claim) and ``kit_identities``: one query."""
    row = await fetch_one(
        conn, "SELECT u.*, coalesce((SELECT json_agg(json_build_object('method', c.authentication_method, "
              "'timestamp', extract(epoch FROM c.created_at)::bigint) ORDER BY c.created_at DESC) "
              f"FROM auth.mfa_amr_claims c WHERE c.session_id = %s), '[]') AS kit_amr, {_IDENTITIES} "
              "FROM auth.users u WHERE u.id = %s",
        (str(session_id), str(user_id)))
    assert row is not None
    return row


async def insert_refresh_token(conn: Conn, token: str, user_id: uuid.UUID, session_id: uuid.UUID,
                               parent: str | None) -> None:
    await conn.execute("INSERT INTO auth.refresh_tokens (token, user_id, revoked, parent, session_id) "
                       "VALUES (%s, %s, false, %s, %s)", (token, str(user_id), parent, str(session_id)))
    await conn.execute("UPDATE auth.sessions SET refreshed_at = now() AT TIME ZONE 'utc', updated_at = now() "
                       "WHERE id = %s", (str(session_id),))


async def find_refresh_token(conn: Conn, token: str) -> Row | None:
    """The token row, locked, with its session's user (None when unknown or its session is gone)."""
    return await fetch_one(conn, "SELECT t.*, s.user_id AS session_user_id, s.not_after FROM auth.refresh_tokens t "
                            "JOIN auth.sessions s ON s.id = t.session_id WHERE t.token = %s FOR UPDATE OF t",
                      (token,))


async def active_child(conn: Conn, session_id: uuid.UUID) -> Row | None:
    return await fetch_one(conn, "SELECT * FROM auth.refresh_tokens WHERE session_id = %s AND revoked = false "
                            "ORDER BY id DESC LIMIT 1", (str(session_id),))


async def revoke_token(conn: Conn, token_id: int) -> None:
    await conn.execute("UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE id = %s",
                       (token_id,))


async def revoke_session_tokens(conn: Conn, session_id: uuid.UUID) -> None:
    """Refresh-token reuse detected: every token of the session is revoked (the family)."""
    await conn.execute("UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() "
                       "WHERE session_id = %s AND revoked = false", (str(session_id),))


async def end_sessions(conn: Conn, user_id: uuid.UUID, *, only: str | None = None,
                       keep: str | None = None) -> None:
    """Delete sessions (and so their refresh tokens): all, ``only`` one, or all but ``keep``."""
    if only is not None:
        await conn.execute("DELETE FROM auth.sessions WHERE id = %s", (only,))
    elif keep is not None:
        await conn.execute("DELETE FROM auth.sessions WHERE user_id = %s AND id <> %s", (str(user_id), keep))
    else:
        await conn.execute("DELETE FROM auth.sessions WHERE user_id = %s", (str(user_id),))


"""Who connects to the database and how an API request takes its role: the stack's one policy.

The model is PostgREST's (v12/v13, ``PostgREST.Query.setPgLocals``), as Supabase runs it:

- Every API request (``/rest``, ``/storage``, ``/auth``) runs on a connection of a login role
  like PostgREST's ``authenticator``: ``LOGIN NOINHERIT NOSUPERUSER``, granted ``anon``,
  ``authenticated`` and ``service_role`` and nothing else. It can become those roles and no
  other: ``set_config('role', 'postgres', ...)`` fails with 42501, as on Supabase.
- The request's role and ``request.jwt.claims`` are set transaction-locally by the FIRST
  statement of EVERY transaction (``BEGIN_REQUEST``); there is no fast path that trusts what the
  connection ran before. When the transaction ends, both are gone.
- A connection whose session state a request changed is closed, never reused: the session role,
  session-level claims, ``search_path`` or a temporary schema are checked by ``BEGIN_REQUEST``
  itself, server side, before anything else runs (SQLSTATE ``KT001``: the request is retried on
  a fresh connection); the parameters PostgreSQL reports to the client (``is_superuser``,
  ``TimeZone``, ``DateStyle``, ...) are compared when the connection comes back to the pool.
- Admin work (bootstrap, migrations, the schema cache, health, the fault admin) uses the
  superuser URL through ``kit.stack.database.Database``, never these connections.

API, used by rest/, storage/ and auth/::

    pool = RequestPool(login_conninfo)                 # made by Database.open
    async with pool.transaction(auth) as conn:         # BEGIN + role + claims, one round trip
        await conn.execute("SELECT ...")               # COMMIT on exit, ROLLBACK on an exception
    async with pool.transaction(auth, read_only=True) as conn: ...
    # a caller sending its own statements (REST) sends begin_request(conn, auth) first, in the
    # same round trip (kit.stack.round_trip: one write, one read):
    async with pool.connection() as conn:
        await round_trip(conn, [begin_request(conn, auth), (query, params)])

``Auth`` is who calls: ``Auth("authenticated", {"sub": ..., "role": "authenticated"})``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import secrets
from collections.abc import AsyncIterator, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

API_ROLES = ("anon", "authenticated", "service_role")
LOGIN_ROLE = "authenticator"  # used when the kit created it; else KIT_LOGIN_ROLE
KIT_LOGIN_ROLE = "kit_authenticator"  # on a database whose `authenticator` is not the kit's
LOGIN_ROLE_COMMENT = "kit: the login role API requests connect as"
AUTH_ADMIN_ROLE = "kit_auth_admin"  # the Auth service's login (supabase_auth_admin on Supabase)
AUTH_ADMIN_COMMENT = "kit: the login role the Auth service connects as"
SESSION_CHANGED = "KT001"  # raised by BEGIN_REQUEST on a connection whose session was changed

# The session values PostgreSQL reports on its own (ParameterStatus): free to compare.
_REPORTED = ("is_superuser", "session_authorization", "TimeZone", "DateStyle", "IntervalStyle",
             "default_transaction_read_only", "standard_conforming_strings", "client_encoding",
             "application_name", "search_path")
_REPORTED_NAMES = tuple(name.encode() for name in _REPORTED)  # libpq's own names, read directly

# The guard comes first in the target list, so it reads the session's values before
# set_config changes them; kit_meta.session_changed() runs only when something was changed.
_GUARD = ("CASE WHEN current_setting('role') <> 'none' "
          "OR coalesce(current_setting('request.jwt.claims', true), '') <> '' "
          "OR current_setting('search_path') <> %s OR pg_my_temp_schema() <> 0 "
          "THEN kit_meta.session_changed() END")
BEGIN_REQUEST = (f"SELECT {_GUARD}, set_config('role', %s, true), "
                 "set_config('request.jwt.claims', %s, true)")
_LOCALS = (", set_config('request.method', %s, true), set_config('request.path', %s, true), "
           "set_config('request.headers', %s, true)")
_READ_ONLY = ", set_config('transaction_read_only', 'on', true)"
_BEGIN = {(locals_, read_only): BEGIN_REQUEST + (_LOCALS if locals_ else "") + (_READ_ONLY if read_only else "")
          for locals_ in (False, True) for read_only in (False, True)}


@dataclass(frozen=True)
class RequestLocals:
    """PostgREST's other per-request settings (``PostgREST.Query.setPgLocals``): the HTTP method,
    the path below the API prefix (``/todos``, ``/rpc/fn``) and the headers as a JSON object with
    lower-case names, read in SQL as ``current_setting('request.headers', true)::json``."""

    method: str
    path: str
    headers: str

    @classmethod
    def of(cls, method: str, path: str, headers: Iterable[tuple[bytes, bytes]]) -> RequestLocals:
        return cls(method, path, json.dumps({name.decode("latin-1").lower(): value.decode("latin-1")
                                             for name, value in headers}))


# Set by the service answering the request (kit.stack.rest); unset, only role and claims are set.
REQUEST_LOCALS: ContextVar[RequestLocals | None] = ContextVar("kit_request_locals", default=None)


@dataclass(frozen=True)
class Auth:
    """Who is calling: the database role to assume and the verified JWT claims."""

    role: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def is_service_role(self) -> bool:
        return self.role == "service_role"

    @functools.cached_property
    def claims_json(self) -> str:
        """``request.jwt.claims`` as set for the request (``role`` always in it); made once per
        caller, and the gateway keeps one ``Auth`` per token."""
        claims = self.claims if "role" in self.claims else {**self.claims, "role": self.role}
        return json.dumps(claims)


def auth_from_claims(claims: dict[str, Any]) -> Auth:
    """The caller a verified JWT names, as PostgREST v13 reads it (``PostgREST.Auth``
    ``parseClaims``): no ``role`` claim means the anon role; a non-string role is taken as its
    JSON text. Whether the role exists and the login role may become it is the database's
    answer (22023 → 401, 42501 → 403), not the gateway's.

    >>> auth_from_claims({"sub": "u1"})
    Auth(role='anon', claims={'sub': 'u1', 'role': 'anon'})
    """
    role = claims.get("role", "anon")
    role = role if isinstance(role, str) else json.dumps(role)
    return Auth(role, {**claims, "role": role})


class SessionChanged(Exception):
    """A pooled connection's session state was changed by an earlier request; it was closed."""


class RequestConnection(psycopg.AsyncConnection[Any]):
    """An autocommit connection of the login role, with the session values it started with."""

    pristine: tuple[bytes | None, ...] = ()
    search_path: str = ""

    def changed(self) -> bool:
        """True when a reported session value differs from the one at connect (no round trip)."""
        return _reported(self) != self.pristine


def _reported(conn: psycopg.AsyncConnection[Any]) -> tuple[bytes | None, ...]:
    status = conn.pgconn.parameter_status  # one C call each: this runs after every request
    return tuple(status(name) for name in _REPORTED_NAMES)


def begin_request(conn: RequestConnection, auth: Auth, *, read_only: bool = False
                  ) -> tuple[str, tuple[str, ...]]:
    """The first statement of a request's transaction and its parameters: the guard, role and
    claims, then ``REQUEST_LOCALS`` (method, path, headers) when the service set them.

    >>> begin_request(conn, Auth("anon"))[1]        # doctest: +SKIP
    ('"$user", public', 'anon', '{"role": "anon"}')
    """
    locals_ = REQUEST_LOCALS.get()
    params: tuple[str, ...] = (conn.search_path, auth.role, auth.claims_json)
    if locals_ is not None:
        params += (locals_.method, locals_.path, locals_.headers)
    return _BEGIN[locals_ is not None, read_only], params


class RequestPool:
    """Connections of the login role for API requests, last in first out (the warm one first).

    ``max_size`` connections at most; a connection that is broken, left inside a transaction,
    or whose session state changed is closed instead of returned.
    """

    def __init__(self, conninfo: str, *, max_size: int = 32) -> None:
        self._conninfo = conninfo
        self.max_size = max_size
        self._idle: list[RequestConnection] = []
        self._slots: asyncio.Semaphore | None = None  # created in the server's loop
        self._closers: set[asyncio.Future[None]] = set()

    def __repr__(self) -> str:  # the conninfo holds a password: never shown
        return f"<RequestPool {len(self._idle)} idle, max {self.max_size}>"

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
        if self._closers:
            await asyncio.gather(*self._closers, return_exceptions=True)

    async def _connect(self) -> RequestConnection:
        # prepare_threshold=None: psycopg prepares nothing here, so it never sends the DEALLOCATE
        # ALL it issues after a ROLLBACK, which would drop kit.stack.round_trip's statements
        conn = await RequestConnection.connect(self._conninfo, autocommit=True, prepare_threshold=None)
        conn.pristine = _reported(conn)
        cur = await conn.execute("SELECT current_setting('search_path')")
        conn.search_path = str((await cur.fetchone() or ("",))[0])
        return conn

    def _slots_now(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_size)
        return self._slots

    def _release(self, conn: RequestConnection) -> None:
        if (conn.closed or conn.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE
                or conn.changed()):
            self._closing(conn)
        else:
            self._idle.append(conn)

    def _closing(self, conn: RequestConnection) -> None:
        if not conn.closed:
            task = asyncio.ensure_future(conn.close())  # not on the request's path
            self._closers.add(task)
            task.add_done_callback(self._closers.discard)

    @contextlib.asynccontextmanager
    async def connection(self, *, fresh: bool = False) -> AsyncIterator[RequestConnection]:
        """A connection for one request. The caller starts its transaction with
        ``begin_request``; ``SessionChanged`` is raised (the connection closed) when the guard
        in it fired: retry with ``fresh=True``."""
        async with self._slots_now():
            conn = None if fresh or not self._idle else self._idle.pop()
            if conn is None or conn.closed:
                conn = await self._connect()
            try:
                yield conn
            except psycopg.Error as exc:
                if exc.sqlstate == SESSION_CHANGED:
                    await conn.close()
                    raise SessionChanged(str(exc)) from None
                raise
            finally:
                self._release(conn)

    @contextlib.asynccontextmanager
    async def transaction(self, auth: Auth, *, read_only: bool = False
                          ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """One transaction as ``auth.role`` with ``request.jwt.claims`` set; RLS applies.

        COMMIT when the block ends, ROLLBACK when it raises (``psycopg.Rollback`` rolls back
        quietly). Database errors pass through as psycopg errors.
        """
        async with self._slots_now():
            conn = await self._begin(auth, read_only)
            try:
                yield conn
            except psycopg.Rollback:
                await conn.execute("ROLLBACK")
            except BaseException:
                if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):
                        await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")
            finally:
                self._release(conn)

    async def _begin(self, auth: Auth, read_only: bool) -> RequestConnection:
        """An idle connection (else a new one) inside BEGIN with the request's settings."""
        for fresh in (False, True):
            conn = None if fresh or not self._idle else self._idle.pop()
            if conn is None or conn.closed:
                conn = await self._connect()
            try:
                async with conn.pipeline():  # BEGIN and the settings: one round trip
                    await conn.execute("BEGIN")
                    await conn.execute(*begin_request(conn, auth, read_only=read_only))
                return conn
            except psycopg.Error as exc:
                if exc.sqlstate == SESSION_CHANGED:
                    await conn.close()
                    if not fresh:
                        continue
                    raise SessionChanged(str(exc)) from None
                with contextlib.suppress(psycopg.Error):  # e.g. a role that does not exist
                    await conn.execute("ROLLBACK")
                self._release(conn)
                raise
        raise AssertionError("unreachable")


# -- the login role (run on an admin connection at bootstrap) ---------------------------------

_LOGIN_ATTRIBUTES = "LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


async def prepare_login_role(admin: psycopg.AsyncConnection[Any], admin_conninfo: str) -> str:
    """Make sure the login role exists with PostgREST's attributes and the kit's password;
    returns the conninfo API requests connect with (its password is a secret: never log it).

    ``authenticator`` is used when the kit created it (its comment says so); on a database
    where someone else's ``authenticator`` exists (a ``supabase start`` project), the kit uses
    its own ``kit_authenticator`` and leaves theirs alone.
    """
    ours = await _one(admin, "SELECT shobj_description(oid, 'pg_authid') = %s FROM pg_roles "
                             "WHERE rolname = %s", (LOGIN_ROLE_COMMENT, LOGIN_ROLE))
    name = LOGIN_ROLE if ours and ours[0] else KIT_LOGIN_ROLE
    password = await _login(admin, name, LOGIN_ROLE_COMMENT)
    role = sql.Identifier(name)
    await admin.execute(sql.SQL("GRANT anon, authenticated, service_role TO {}").format(role))
    await admin.execute(sql.SQL("GRANT USAGE ON SCHEMA kit_meta TO {}").format(role))
    return make_conninfo(admin_conninfo, user=name, password=password)


async def prepare_auth_admin_role(admin: psycopg.AsyncConnection[Any], admin_conninfo: str) -> str:
    """The login the Auth service (/auth/v1) connects as, like Supabase Auth's own
    ``supabase_auth_admin``: no superuser, no API role, all rights on the ``auth`` schema and
    nothing else (a trigger on ``auth.users`` that writes elsewhere needs SECURITY DEFINER, as
    on Supabase). Returns its conninfo (a secret: never log it)."""
    password = await _login(admin, AUTH_ADMIN_ROLE, AUTH_ADMIN_COMMENT)
    role = sql.Identifier(AUTH_ADMIN_ROLE)
    for grant in ("GRANT USAGE ON SCHEMA auth TO {}", "GRANT ALL ON ALL TABLES IN SCHEMA auth TO {}",
                  "GRANT ALL ON ALL SEQUENCES IN SCHEMA auth TO {}",
                  "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA auth TO {}"):
        await admin.execute(sql.SQL(grant).format(role))
    return make_conninfo(admin_conninfo, user=AUTH_ADMIN_ROLE, password=password)


async def _one(admin: psycopg.AsyncConnection[Any], query: Any,
               params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    return await (await admin.execute(query, params)).fetchone()


async def _login(admin: psycopg.AsyncConnection[Any], name: str, comment: str) -> str:
    """Create the login role ``name`` if missing (marked with ``comment``), give it the kit's
    password (kept in kit_meta.login_role) and the login attributes; returns the password."""
    role = sql.Identifier(name)
    if not await _one(admin, "SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)):
        await admin.execute(sql.SQL("CREATE ROLE {} " + _LOGIN_ATTRIBUTES).format(role))
        await admin.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(comment)))
    row = await _one(admin, "SELECT password FROM kit_meta.login_role WHERE name = %s", (name,))
    password = str(row[0]) if row else secrets.token_urlsafe(32)
    if not row:
        await admin.execute("INSERT INTO kit_meta.login_role (name, password) VALUES (%s, %s)",
                            (name, password))
    await admin.execute(sql.SQL("ALTER ROLE {} " + _LOGIN_ATTRIBUTES + " PASSWORD {}").format(
        role, sql.Literal(password)))
    return password

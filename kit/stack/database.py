"""The stack's PostgreSQL: start it (pgserver) or use ``KIT_DATABASE_URL``, bootstrap it,
and run each API request in one transaction as the caller's role.

    db = await Database.open(url)                 # url: the admin (superuser) URL
    async with db.transaction(auth) as conn:      # an API request: kit.stack.roles decides how
        await conn.execute("select ...")
    async with db.pool.connection() as conn:      # admin work only (schema cache, health)
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from kit.errors import MigrationError, StackStartFailed
from kit.stack.roles import Auth, RequestPool, prepare_auth_admin_role, prepare_login_role

__all__ = ["Auth", "Database", "apply_migrations", "redact_url"]

log = logging.getLogger("kit.stack")
SQL_DIR = Path(__file__).with_name("sql")


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or reuse) the kit's PostgreSQL for ``pgdata`` (kit.stack.postgres); its URL.

    The server is stopped by ``stop_embedded_postgres`` (the stack process calls it on exit).
    """
    from kit.stack.postgres import Cluster

    cluster = Cluster(pgdata, pgdata.parent / "postgres.json")
    try:
        url = cluster.start()
    except OSError as exc:
        raise StackStartFailed(f"PostgreSQL did not start in {pgdata}: {exc}",
                               fix="check that the stack directory is writable; "
                                   "`python -m kit stack logs`") from exc
    _CLUSTERS.append(cluster)
    return url


_CLUSTERS: list[Any] = []


def stop_embedded_postgres() -> None:
    """Stop the PostgreSQL this process started (fast shutdown, then harder)."""
    while _CLUSTERS:
        cluster = _CLUSTERS.pop()
        try:
            cluster.stop()
        except OSError as exc:  # stopping is best effort; the next start recovers the data dir
            log.warning("PostgreSQL did not stop cleanly: %s", exc)


class Database:
    """The admin pool (superuser), the API requests' pool (the login role, ``kit.stack.roles``)
    and the schema generation the gateway's caches key on."""

    def __init__(self, url: str, pool: AsyncConnectionPool) -> None:
        self.url = url
        self.pool = pool
        self.requests: RequestPool | None = None  # set by bootstrap
        self.auth_login = ""  # the Auth service's conninfo (kit.stack.roles), set by bootstrap
        self.schema_generation = 0
        self._listener: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Database {redact_url(self.url)}>"

    @classmethod
    async def open(cls, url: str, *, min_size: int = 1, max_size: int = 4) -> Database:
        # the pool here is for admin work only (schema cache, health): API requests use self.requests
        pool = AsyncConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                                   kwargs={"autocommit": False}, timeout=30)
        try:
            probe = await psycopg.AsyncConnection.connect(url, connect_timeout=10)  # fail fast
            await probe.close()
            await pool.open(wait=True, timeout=30)
        except Exception as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StackStartFailed(f"cannot connect to PostgreSQL at {redact_url(url)}: {reason}",
                                   fix="check KIT_DATABASE_URL, or unset it to use the "
                                       "embedded PostgreSQL") from exc
        db = cls(url, pool)
        await db.bootstrap()
        db._listener = asyncio.create_task(db._listen_for_schema_changes())
        return db

    async def close(self) -> None:
        if self._listener:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        if self.requests:
            await self.requests.close()
        await self.pool.close()

    async def bootstrap(self, sql_files: Iterable[Path] | None = None) -> None:
        """Apply the stack's own idempotent SQL (roles, auth, storage schema)."""
        files = sorted(SQL_DIR.glob("*.sql")) if sql_files is None else list(sql_files)
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            # one bootstrap at a time, even with several stacks on one KIT_DATABASE_URL
            await conn.execute("SELECT pg_advisory_lock(4242)")
            try:
                for path in files:
                    await conn.execute(path.read_text())
                login = await prepare_login_role(conn, self.url)
                self.auth_login = await prepare_auth_admin_role(conn, self.url)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(4242)")
        self.requests = RequestPool(login)

    def transaction(self, auth: Auth, *, read_only: bool = False
                    ) -> contextlib.AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        """One transaction as ``auth.role`` with ``request.jwt.claims`` set (RLS applies), on a
        connection of the login role: ``RequestPool.transaction`` (kit.stack.roles)."""
        assert self.requests is not None, "Database.open bootstraps before requests are served"
        return self.requests.transaction(auth, read_only=read_only)

    async def _listen_for_schema_changes(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute("LISTEN kit_schema")
                    await conn.execute("LISTEN pgrst")  # NOTIFY pgrst, 'reload config' / 'reload schema'
                    async for _ in conn.notifies():
                        self.schema_generation += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server restarted: reconnect, and assume a change
                log.warning("schema listener lost its connection: %s", exc)
                self.schema_generation += 1
                await asyncio.sleep(0.5)


def apply_migrations(database_url: str, files: Iterable[Path]) -> list[tuple[str, str]]:
    """Apply migration files, each in its own transaction; return ``(file, "applied"|"skipped")``.

    A file already applied (same sha256) is skipped. A failing file is rolled back whole
    and stops the run with a ``MigrationError`` naming the file; earlier files stay applied.
    Nothing is ever dropped or reset by the kit itself.
    """
    results: list[tuple[str, str]] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for path in files:
            if not path.is_file():
                raise MigrationError(f"migration file {path} does not exist",
                                     fix="pass the path of a .sql file")
            sql = path.read_text()
            digest = hashlib.sha256(sql.encode()).hexdigest()
            if conn.execute("SELECT 1 FROM kit_meta.migrations WHERE sha256 = %s",
                            (digest,)).fetchone():
                results.append((str(path), "skipped"))
                continue
            try:
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute("INSERT INTO kit_meta.migrations (name, sha256) VALUES (%s, %s)",
                                 (path.name, digest))
            except psycopg.Error as exc:
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise MigrationError(f"migration {path} failed and was rolled back: {first_line}",
                                     fix="correct the SQL (use IF NOT EXISTS for a re-runnable "
                                         "migration) and run it again") from exc
            results.append((str(path), "applied"))
    return results


def redact_url(url: str) -> str:
    """A database URL with its password replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url

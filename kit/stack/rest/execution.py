"""Run a request's statements as the caller, in one transaction, in as few round trips as possible.

/rest/v1 has its own small autocommit pool, last in first out (the warm connection, with its
prepared statements, serves sequential requests). Each connection remembers the caller (role
and JWT claims) its session is set to. A request whose caller matches sends just its one
statement: one round trip, and PostgreSQL runs it as that role with RLS. Otherwise the
``set_config`` calls and the statements go out together in a pipeline, which PostgreSQL
runs as one implicit transaction up to the Sync: a failing statement rolls everything back,
including the caller change (the connection then forgets its caller).

When the answer must be checked before it is committed (``Accept:
application/vnd.pgrst.object+json`` on a write), or must run read-only (GET /rpc), an explicit
transaction with ``set_config(..., true)`` is used and rolled back if needed, as in PostgREST.

    connections = RestConnections(url)
    results = await connections.run_as(auth, [statement])
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from kit.stack.database import Auth
from kit.stack.rest.problems import RestProblem, problem_from_database
from kit.stack.rest.sql_builder import Statement

_SESSION = "SELECT set_config('role', %s, false), set_config('request.jwt.claims', %s, false)"
_LOCAL = "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)"
_LOCAL_READ_ONLY = _LOCAL + ", set_config('transaction_read_only', 'on', true)"


class CallerConnection(psycopg.AsyncConnection[Any]):
    """A connection that remembers which (role, claims) its session runs as."""

    caller: tuple[str, str] | None = None


@dataclass(frozen=True)
class Result:
    rows: list[tuple[Any, ...]]
    rowcount: int


Check = Callable[[list[Result]], RestProblem | None]


class RestConnections:
    """The REST service's own pool (its sessions hold API roles, so it is not shared)."""

    def __init__(self, url: str, *, max_size: int = 16) -> None:
        self.url = url
        self.max_size = max_size
        self._idle: list[CallerConnection] = []
        self._slots: asyncio.Semaphore | None = None  # created in the server's loop

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[CallerConnection]:
        """A connection of its own for one request; broken or mid-transaction ones are dropped."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_size)
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = await CallerConnection.connect(self.url, autocommit=True)
            try:
                yield conn
            finally:
                if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.caller = None
                    await conn.close()
                else:
                    self._idle.append(conn)

    async def run_as(self, auth: Auth, statements: Sequence[Statement], *, read_only: bool = False,
                     check: Check | None = None) -> list[Result]:
        """Execute ``statements`` as ``auth.role``; database errors become ``RestProblem``."""
        caller = (auth.role, json.dumps(auth.claims, sort_keys=True))
        try:
            async with self.connection() as conn:
                if check is not None or read_only:
                    return await _explicit(conn, caller, statements, check, read_only)
                if conn.caller == caller and len(statements) == 1:
                    cur = await conn.execute(statements[0].query, statements[0].params)
                    return [await _result(cur)]
                return await _pipelined(conn, caller, statements)
        except psycopg.Error as exc:
            raise problem_from_database(exc, authenticated=auth.role != "anon") from None


async def _result(cur: psycopg.AsyncCursor[Any]) -> Result:
    return Result(await cur.fetchall() if cur.description else [], cur.rowcount)


async def _pipelined(conn: CallerConnection, caller: tuple[str, str],
                     statements: Sequence[Statement]) -> list[Result]:
    conn.caller = None  # unknown until the whole implicit transaction succeeded
    async with conn.pipeline():
        await conn.execute(_SESSION, caller)
        cursors = [await conn.execute(st.query, st.params) for st in statements]
    conn.caller = caller
    return [await _result(cur) for cur in cursors]


async def _explicit(conn: CallerConnection, caller: tuple[str, str], statements: Sequence[Statement],
                    check: Check | None, read_only: bool) -> list[Result]:
    try:
        async with conn.pipeline():
            await conn.execute("BEGIN")
            await conn.execute(_LOCAL_READ_ONLY if read_only else _LOCAL, caller)
            cursors = [await conn.execute(st.query, st.params) for st in statements]
        results = [await _result(cur) for cur in cursors]
        problem = check(results) if check else None
        await conn.execute("ROLLBACK" if problem else "COMMIT")
    finally:
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            await conn.execute("ROLLBACK")
    if problem:
        raise problem
    return results

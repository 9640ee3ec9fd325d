"""Run a request's statements as the caller, in one transaction, in as few round trips as possible.

Connections come from the stack's request pool (``kit.stack.roles``: the login role, never a
superuser). Every request's first statement sets its role and JWT claims transaction-locally
(``begin_request``), sent with the request's own statements in one write and read back in one
(``kit.stack.round_trip``, which prepares repeated statements server side). PostgreSQL runs
them as one implicit transaction up to the Sync, so a failing statement rolls everything back
and the role and claims end with it. There is no fast path that trusts the
role a connection ran as before.

When the answer must be checked before it is committed (``Accept:
application/vnd.pgrst.object+json`` on a write), or must run read-only (GET /rpc), an explicit
transaction is used and rolled back if needed, as in PostgREST. So is a request that asked
for ``Prefer: tx=rollback`` (``rollback=True``): its transaction ends with ``SET CONSTRAINTS ALL
IMMEDIATE`` (deferred checks still answer) and ``ROLLBACK``, as PostgREST's ``optionalRollback``.

    connections = RestConnections(ctx.db.requests)
    results = await connections.run_as(auth, [statement])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg

from kit.stack.rest.problems import RestProblem, problem_from_database
from kit.stack.rest.sql_builder import Statement
from kit.stack.roles import Auth, RequestConnection, RequestPool, SessionChanged, begin_request
from kit.stack.round_trip import Params, Result, round_trip

__all__ = ["Check", "RestConnections", "Result"]


Check = Callable[[list[Result]], RestProblem | None]


class RestConnections:
    """How /rest/v1 runs statements on the stack's request pool."""

    def __init__(self, pool: RequestPool) -> None:
        self.pool = pool

    async def run_as(self, auth: Auth, statements: Sequence[Statement], *, read_only: bool = False,
                     check: Check | None = None, rollback: bool = False) -> list[Result]:
        """Execute ``statements`` as ``auth.role``; database errors become ``RestProblem``;
        ``rollback`` ends the transaction with ROLLBACK instead of COMMIT."""
        try:
            for fresh in (False, True):
                try:
                    async with self.pool.connection(fresh=fresh) as conn:
                        if check is not None or read_only or rollback:
                            return await _explicit(conn, auth, statements, check, read_only,
                                                   rollback)
                        return await _pipelined(conn, auth, statements)
                except SessionChanged:  # an earlier request changed that session: nothing ran
                    if fresh:
                        raise
        except psycopg.Error as exc:
            raise problem_from_database(exc, authenticated=auth.role != "anon") from None
        raise AssertionError("unreachable")


def _texts(statements: Sequence[Statement]) -> list[tuple[str, Params]]:
    return [(st.query.as_string(None), st.params) for st in statements]


async def _pipelined(conn: RequestConnection, auth: Auth,
                     statements: Sequence[Statement]) -> list[Result]:
    return (await round_trip(conn, [begin_request(conn, auth), *_texts(statements)]))[1:]


async def _explicit(conn: RequestConnection, auth: Auth, statements: Sequence[Statement],
                    check: Check | None, read_only: bool, rollback: bool = False) -> list[Result]:
    try:
        results = (await round_trip(conn, [("BEGIN", None), begin_request(conn, auth, read_only=read_only),
                                           *_texts(statements)]))[2:]
        problem = check(results) if check else None
        if rollback and not problem:
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        await conn.execute("ROLLBACK" if problem or rollback else "COMMIT")
    finally:
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            await conn.execute("ROLLBACK")
    if problem:
        raise problem
    return results

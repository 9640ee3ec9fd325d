"""A request's statements in one write and one read: libpq's pipeline mode, driven directly.

psycopg's own pipeline flushes the socket after every ``execute`` and builds a cursor per
statement; for a request of two or three small statements that machinery costs more CPU than
the statements themselves (bench/stack.py: server CPU per select-by-id). Here every statement
and the final Sync go out in ONE write and all their results come back before the one Sync
answer, through psycopg's documented low-level layer (``psycopg.pq``) and its adapters
(``psycopg.adapt.Transformer``, the same dumpers and loaders as a cursor):

    results = await round_trip(conn, [(BEGIN_REQUEST, (path, role, claims)), (query, {"p0": 7})])
    results[1].rows      # [(json text, 1, None)]

PostgreSQL runs everything up to the Sync as one implicit transaction (or inside the caller's
explicit ``BEGIN``): a failing statement aborts the rest, and its error is raised as the
psycopg error a cursor would raise (``sqlstate``, ``diag``). Statements seen twice on a
connection are prepared server side (``_kit_N``, at most ``PREPARED_MAX`` per connection), as
psycopg's ``prepare_threshold`` would. Placeholders are psycopg's: ``%s`` or ``%(name)s``,
``%%`` for a literal ``%``.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq
from psycopg.abc import Transformer
from psycopg.adapt import PyFormat
from psycopg.adapt import Transformer as Adapting

PREPARED_MAX = 256  # prepared statements kept per connection; later shapes run unnamed
_SEEN_MAX = 4096  # statements counted towards preparation per connection, then recounted
_PLACEHOLDER = re.compile(r"%(?:\(([^)]*)\)s|s|%|.|$)", re.DOTALL)
_TUPLES, _COMMAND = pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_NO_SUCH_STATEMENT = "26000"  # invalid_sql_statement_name


@dataclass(frozen=True)
class Result:
    """One statement's answer: its rows (tuples, loaded as a cursor would) and row count."""

    rows: list[tuple[Any, ...]]
    rowcount: int


Params = Mapping[str, Any] | Sequence[Any] | None


@lru_cache(maxsize=2048)
def positional(query: str, encoding: str = "utf-8") -> tuple[bytes, tuple[str | int, ...]]:
    """psycopg's placeholders as PostgreSQL's: ``("... %(a)s, %s", ...)`` is refused (mixed);
    ``"x = %(a)s OR y = %(a)s"`` → ``(b"x = $1 OR y = $1", ("a",))``; ``%%`` → ``%``."""
    order: list[str | int] = []
    kinds: set[bool] = set()

    def number(match: re.Match[str]) -> str:
        text, name = match.group(0), match.group(1)
        if text == "%%":
            return "%"
        if text != "%s" and name is None:
            raise ValueError(f"bad placeholder {text!r} in a statement: use %s, %(name)s or %%")
        kinds.add(name is None)
        key: str | int = len(order) if name is None else name
        if key not in order:
            order.append(key)
        return f"${order.index(key) + 1}"

    converted = _PLACEHOLDER.sub(number, query)
    if len(kinds) > 1:
        raise ValueError("a statement mixes %s and %(name)s placeholders")
    return converted.encode(encoding), tuple(order)


class _Prepared:
    """What one connection has prepared: (query, types) → statement name."""

    __slots__ = ("made", "names", "seen")

    def __init__(self) -> None:
        self.names: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self.seen: dict[tuple[bytes, tuple[int, ...]], int] = {}
        self.made = 0  # names are never reused on a connection, even after a failed PREPARE


_PREPARED: weakref.WeakKeyDictionary[Any, _Prepared] = weakref.WeakKeyDictionary()


async def round_trip(conn: psycopg.AsyncConnection[Any], statements: Sequence[tuple[str, Params]]
                     ) -> list[Result]:
    """Run ``statements`` (query text, parameters) on ``conn`` in one write and one read; the
    results in order. Raises the first failing statement's psycopg error. A connection
    left in an unknown state (cancelled, broken) is closed, never reused."""
    pgconn = conn.pgconn
    encoding = conn.info.encoding
    prepared = _PREPARED.get(conn) or _PREPARED.setdefault(conn, _Prepared())
    tx: Transformer = Adapting(conn)
    expected: list[tuple[bytes, tuple[int, ...]] | None] = []  # per command: a PREPARE's key
    pgconn.enter_pipeline_mode()
    done = False
    try:
        for query, params in statements:
            _send(pgconn, tx, prepared, expected, query, params, encoding)
        pgconn.pipeline_sync()
        results = await _exchange(conn, pgconn)
        done = True
    finally:
        if done:
            pgconn.exit_pipeline_mode()
        else:  # results may still be on their way: nobody can use this connection safely
            pgconn.finish()
    return _answers(tx, prepared, expected, results, encoding)


def _send(pgconn: pq.abc.PGconn, tx: Transformer, prepared: _Prepared,
          expected: list[tuple[bytes, tuple[int, ...]] | None], query: str, params: Params,
          encoding: str) -> None:
    text, order = positional(query, encoding)
    values: list[Any] = [params[k] for k in order] if params else []  # type: ignore[index]
    dumped = tx.dump_sequence(values, [PyFormat.AUTO] * len(values))
    types, formats = tx.types or (), tx.formats
    key = (text, types)
    name = prepared.names.get(key)
    if name is None and len(prepared.names) < PREPARED_MAX:
        seen = prepared.seen.get(key, 0) + 1
        if len(prepared.seen) >= _SEEN_MAX:
            prepared.seen.clear()
        prepared.seen[key] = seen
        if seen >= 2:
            name = f"_kit_{prepared.made}".encode()
            prepared.made += 1
            pgconn.send_prepare(name, text, param_types=types)
            expected.append(key)
            prepared.names[key] = name  # taken back if the PREPARE fails (see _answers)
            expected.append(None)
            pgconn.send_query_prepared(name, dumped, param_formats=formats)
            return
    expected.append(None)
    if name is not None:
        pgconn.send_query_prepared(name, dumped, param_formats=formats)
    else:
        pgconn.send_query_params(text, dumped, param_types=types, param_formats=formats)


async def _exchange(conn: psycopg.AsyncConnection[Any], pgconn: pq.abc.PGconn
                    ) -> list[pq.abc.PGresult]:
    """Flush everything, then read until the Sync's answer; one result per command."""
    loop = asyncio.get_running_loop()
    fd = pgconn.socket
    while pgconn.flush():  # a large body fills the socket: keep reading while it drains, so
        await _ready(loop, fd, write=True)  # a server answering early never waits for us
        pgconn.consume_input()
    results: list[pq.abc.PGresult] = []
    pending: list[pq.abc.PGresult] = []
    while True:
        await _ready(loop, fd, write=False)
        pgconn.consume_input()
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                if not pending:
                    break
                results.extend(pending[-1:])  # a command's last result is its answer
                pending = []
            elif result.status == _SYNC:
                return results
            else:
                pending.append(result)


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, *, write: bool) -> None:
    """Until ``fd`` is readable (or, with ``write``, readable or writable)."""
    future = loop.create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    loop.add_reader(fd, wake)
    if write:
        loop.add_writer(fd, wake)
    try:
        await future
    finally:
        loop.remove_reader(fd)
        if write:
            loop.remove_writer(fd)


def _answers(tx: Transformer, prepared: _Prepared, expected: list[tuple[bytes, tuple[int, ...]] | None],
             results: list[pq.abc.PGresult], encoding: str) -> list[Result]:
    error: psycopg.Error | None = None
    answers: list[Result] = []
    for key, result in zip(expected, results, strict=True):
        status = result.status
        if key is not None:  # the answer to a PREPARE
            if status != _COMMAND:
                prepared.names.pop(key, None)
        elif status == _TUPLES or status == _COMMAND:
            tx.set_pgresult(result)
            rows = tx.load_rows(0, result.ntuples, tuple) if result.nfields else []
            count = result.command_tuples
            answers.append(Result(rows, -1 if count is None else count))
        if status == pq.ExecStatus.FATAL_ERROR and error is None:
            error = psycopg.errors.error_from_result(result, encoding=encoding)
    if error is not None:
        if error.sqlstate == _NO_SUCH_STATEMENT:  # someone deallocated ours: start afresh
            prepared.names.clear()
        raise error
    return answers

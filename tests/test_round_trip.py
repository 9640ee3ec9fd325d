"""kit.stack.round_trip: a request's statements in one write and one read, on the stack's real
PostgreSQL through the login role's pool (kit.stack.roles)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from kit.stack.roles import Auth, RequestPool, begin_request, prepare_login_role
from kit.stack.round_trip import positional, round_trip

TABLE = f"round_trip_{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT %(a)s, %(b)s, %(a)s", ("SELECT $1, $2, $1", ("a", "b"))),
    ("SELECT %s, %s", ("SELECT $1, $2", (0, 1))),
    ("SELECT '100%%', %(p0)s", ("SELECT '100%', $1", ("p0",))),
    ("COMMIT", ("COMMIT", ())),
])
def test_placeholders_become_postgresql_numbers(query: str, expected: tuple[str, tuple[Any, ...]]) -> None:
    text, order = positional(query)
    assert (text.decode(), order) == expected


@pytest.mark.parametrize(("query", "problem"), [
    ("SELECT %(a)s, %s", "mixes"), ("SELECT 5 % 2", "bad placeholder '% '"), ("SELECT %", "bad placeholder"),
])
def test_placeholders_psycopg_would_refuse_are_refused(query: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        positional(query)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[RequestPool]:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as admin:
        login = await prepare_login_role(admin, db_url)
        await admin.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, note text)")
        await admin.execute(f"GRANT ALL ON {TABLE} TO service_role")
    requests = RequestPool(login, max_size=1)
    yield requests
    await requests.close()
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as admin:
        await admin.execute(f"DROP TABLE {TABLE}")


async def test_statements_answer_in_order_as_a_cursor_would_load_them(pool: RequestPool) -> None:
    async with pool.connection() as conn:
        results = await round_trip(conn, [
            begin_request(conn, Auth("service_role")),
            (f"INSERT INTO {TABLE} VALUES (%(id)s, %(note)s), (%(id)s + 1, NULL)", {"id": 1, "note": "a"}),
            (f"SELECT id, note, current_user, 2.5::numeric, '[1]'::jsonb FROM {TABLE} ORDER BY id", None),
        ])
        async with conn.transaction():  # the same through psycopg's cursor
            await conn.execute(*begin_request(conn, Auth("service_role")))
            cursor_rows = await (await conn.execute(f"SELECT id, note, current_user, 2.5::numeric, "
                                                    f"'[1]'::jsonb FROM {TABLE} ORDER BY id")).fetchall()
    assert [r.rowcount for r in results] == [1, 2, 2]
    assert results[2].rows == cursor_rows == [(1, "a", "service_role", Decimal("2.5"), [1]),
                                              (2, None, "service_role", Decimal("2.5"), [1])]


async def test_a_failing_statement_raises_its_error_and_nothing_before_it_stays(pool: RequestPool) -> None:
    async with pool.connection() as conn:
        with pytest.raises(psycopg.errors.DivisionByZero) as caught:
            await round_trip(conn, [begin_request(conn, Auth("service_role")),
                                    (f"INSERT INTO {TABLE} VALUES (10, 'gone')", None),
                                    ("SELECT 1 / %(zero)s", {"zero": 0}), ("SELECT 1", None)])
        assert caught.value.sqlstate == "22012"
        [(count,)] = (await round_trip(conn, [begin_request(conn, Auth("service_role")),
                                              (f"SELECT count(*) FROM {TABLE} WHERE id = 10", None)]))[1].rows
    assert count == 0


async def _prepared(conn: psycopg.AsyncConnection[Any]) -> list[str]:
    cur = await conn.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
    return [row[0] for row in await cur.fetchall()]


async def test_repeated_statements_are_prepared_and_survive_a_rollback(pool: RequestPool) -> None:
    async with pool.connection() as conn:
        for value in range(3):
            [_, answer] = await round_trip(conn, [begin_request(conn, Auth("anon")), ("SELECT %s::int", (value,))])
            assert answer.rows == [(value,)]
        before = await _prepared(conn)
        for _ in range(8):  # psycopg answers repeated ROLLBACKs with DEALLOCATE ALL when it prepares
            await conn.execute("BEGIN")
            await conn.execute("ROLLBACK")
        [_, answer] = await round_trip(conn, [begin_request(conn, Auth("anon")), ("SELECT %s::int", (7,))])
        assert answer.rows == [(7,)]
        assert before == await _prepared(conn) == ["_kit_0", "_kit_1"]


async def test_a_statement_that_fails_to_prepare_leaves_the_connection_usable(pool: RequestPool) -> None:
    async with pool.connection() as conn:
        for _ in range(2):
            with pytest.raises(psycopg.errors.UndefinedColumn):
                await round_trip(conn, [begin_request(conn, Auth("anon")), ("SELECT no_such_column", None)])
        [_, answer] = await round_trip(conn, [begin_request(conn, Auth("anon")), ("SELECT 'ok'", None)])
    assert answer.rows == [("ok",)]


async def test_a_cancelled_round_trip_closes_its_connection(pool: RequestPool) -> None:
    async with pool.connection() as conn:
        task = asyncio.ensure_future(round_trip(conn, [begin_request(conn, Auth("anon")),
                                                       ("SELECT pg_sleep(5)", None)]))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert conn.closed
    assert not pool._idle  # closed, never handed to the next request


async def test_a_body_larger_than_the_socket_buffer_goes_out_whole(pool: RequestPool) -> None:
    body = "x" * (8 << 20)
    async with pool.connection() as conn:
        [_, answer, echo] = await round_trip(conn, [begin_request(conn, Auth("anon")),
                                                    ("SELECT length(%s)", (body,)), ("SELECT %s", (body,))])
    assert answer.rows == [(len(body),)] and echo.rows == [(body,)]

"""Load: 100 concurrent AsyncClients × 20 requests over loopback, no errors, every answer right.

Each client alternates a select-by-id (as anon, through RLS) and an insert (as a signed-in
user, whose row RLS checks against ``auth.uid()``); afterwards every insert is in the table once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from supabase import AsyncClient, AsyncClientOptions

from kit.stack.keys import Keys
from kit.targets import Target

pytestmark = pytest.mark.slow

CLIENTS, REQUESTS = 100, 20


@pytest.fixture(scope="module")
def table(stack: Target, db_url: str) -> Iterator[str]:
    name = f"load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"""CREATE TABLE {name} (id bigserial PRIMARY KEY, owner uuid, client int, label text);
            ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;
            CREATE POLICY everyone_reads ON {name} FOR SELECT USING (true);
            CREATE POLICY owners_write ON {name} FOR INSERT TO authenticated WITH CHECK (owner = auth.uid());
            INSERT INTO {name} (client, label) SELECT i, 'seed ' || i FROM generate_series(1, {CLIENTS}) i""")  # type: ignore[arg-type]
    yield name
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {name}")  # type: ignore[arg-type]


async def one_client(stack: Target, table: str, number: int, token: str, owner: str) -> list[str]:
    problems: list[str] = []
    http = httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=1))
    client = AsyncClient(stack.url, stack.anon_key, AsyncClientOptions(
        httpx_client=http, headers={"Authorization": f"Bearer {token}"}))
    try:
        for i in range(REQUESTS):
            if i % 2 == 0:
                result = await client.table(table).select("client,label").eq("id", number).execute()
                if result.data != [{"client": number, "label": f"seed {number}"}]:
                    problems.append(f"client {number} read {result.data}")
            else:
                result = await client.table(table).insert(
                    {"owner": owner, "client": number, "label": f"{number}/{i}"}).execute()
                if [row["label"] for row in result.data] != [f"{number}/{i}"]:
                    problems.append(f"client {number} inserted {result.data}")
    finally:
        await http.aclose()
    return problems


async def test_hundred_concurrent_clients(stack: Target, table: str, db_url: str) -> None:
    keys = Keys(stack.jwt_secret or "", stack.anon_key, stack.service_role_key or "")
    owners = [str(uuid.uuid4()) for _ in range(CLIENTS)]
    tokens = [keys.user_token(owner) for owner in owners]
    outcomes = await asyncio.gather(*(one_client(stack, table, n + 1, tokens[n], owners[n])
                                      for n in range(CLIENTS)), return_exceptions=True)
    failures = [repr(o) if isinstance(o, BaseException) else o for o in outcomes if o]
    assert failures == []
    with psycopg.connect(db_url) as conn:
        counts = conn.execute(f"SELECT count(*), count(DISTINCT label) FROM {table} WHERE owner IS NOT NULL").fetchone()  # type: ignore[arg-type]
    assert counts == (CLIENTS * REQUESTS // 2, CLIENTS * REQUESTS // 2)

"""Fixes show the user's own operation: the call is read back from the request that failed
(or from the builder), for every explanation that renders a corrected call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import psycopg
import pytest
from postgrest import SyncPostgrestClient
from postgrest.exceptions import APIError
from public_tables import public_table
from supabase import create_client

import kit
from kit.explain.calls import call_of, call_of_builder
from kit.targets import Target


@pytest.fixture(scope="module")
def notes(stack: Target, db_url: str) -> Iterator[str]:
    with public_table(db_url, "notes", "id int primary key, title text",
                      "alter table {t} enable row level security",
                      "grant all on {t} to anon, authenticated",
                      "insert into {t} values (1, 'a'), (2, 'b')") as table:
        yield table


WRITES = {
    "update": (lambda t: lambda c: c.table(t).update({"title": "x"}).eq("id", 1).execute(),
               '.update({"title": ...}).eq("id", 1).execute()'),
    "upsert": (lambda t: lambda c: c.table(t).upsert({"id": 3, "title": "x"}).execute(),
               '.upsert({"id": ..., "title": ...}).execute()'),
    "insert": (lambda t: lambda c: c.table(t).insert([{"id": 4}, {"id": 5}]).execute(),
               '.insert([{"id": ...}, ...]).execute()'),
    "delete": (lambda t: lambda c: c.table(t).delete().in_("id", [1, 2]).execute(),
               '.delete().in_("id", [1, 2]).execute()'),
}


@pytest.mark.parametrize("kind", list(WRITES))
async def test_a_missing_table_fix_keeps_the_failing_operation(stack: Target, notes: str,
                                                                kind: str) -> None:
    typo = notes.replace("notes_", "notez_")
    operation, expected = WRITES[kind]
    c = kit.clients(stack)
    try:
        client = c.async_ if kind in ("upsert", "delete") else c.sync  # both clients send the same
        with pytest.raises(APIError) as info:
            result = operation(typo)(client)
            if asyncio.iscoroutine(result):
                await result
        why = kit.explain(info.value, capture=c.capture)
    finally:
        c.close()
        await c.aclose()
    assert why.explainer == "postgrest:PGRST205" and why.fix is not None
    assert why.fix.before == f'client.table("{typo}"){expected}'
    assert why.fix.after == f'client.table("{notes}"){expected}'
    assert ".select(" not in why.fix.before + why.fix.after


def test_without_a_capture_the_exception_holds_the_request_and_without_that_only_the_table(
        stack: Target, notes: str) -> None:
    typo = notes.replace("notes_", "nots_")
    with pytest.raises(APIError) as info:  # the user's own client, nothing recorded
        create_client(stack.url, stack.service_role_key or "").table(typo).update(
            {"title": "x"}).eq("id", 1).execute()
    why = kit.explain(info.value)  # its traceback still holds the request postgrest sent
    assert why.fix is not None
    call = '.update({"title": ...}).eq("id", 1).execute()'
    assert (why.fix.before, why.fix.after) == (f'client.table("{typo}"){call}',
                                               f'client.table("{notes}"){call}')
    logged = kit.explain(f"APIError: {info.value}")  # a log line: the operation is not guessed
    assert logged.fix is not None
    assert (logged.fix.before, logged.fix.after) == (f'client.table("{typo}")',
                                                     f'client.table("{notes}")')


def test_a_misspelt_column_is_corrected_where_the_call_names_it(stack: Target, notes: str) -> None:
    c = kit.clients(stack)
    try:
        with pytest.raises(APIError) as info:
            c.sync.table(notes).select("id,titel").eq("titel", "a").order("titel").execute()
        why = kit.explain(info.value, capture=c.capture)
    finally:
        c.close()
    assert why.explainer == "sqlstate:42703" and why.fix is not None
    assert why.fix.after == (f'client.table("{notes}").select("id,title").eq("title", "a")'
                             '.order("title").execute()')


def test_a_row_level_security_refusal_shows_the_refused_insert(stack: Target, notes: str) -> None:
    anon = kit.clients(stack, role="anon")
    try:
        with pytest.raises(APIError) as info:
            anon.sync.table(notes).insert({"id": 9, "title": "x"}).execute()
        why = kit.explain(info.value, capture=anon.capture)
    finally:
        anon.close()
    assert why.explainer == "sqlstate:42501" and why.fix is not None
    assert f'client.table("{notes}").insert({{"id": ..., "title": ...}}).execute()' in why.fix.before
    assert "for insert to anon" in why.fix.after


def test_single_on_an_rpc_keeps_the_rpc(stack: Target, notes: str, db_url: str) -> None:
    fn = f"all_{notes}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"create function public.{fn}() returns setof public.{notes} "
                     f"language sql as 'select * from public.{notes}'")
        conn.execute("notify pgrst, 'reload schema'")
    time.sleep(0.3)
    c = kit.clients(stack)
    try:
        with pytest.raises(APIError) as info:
            c.sync.rpc(fn, {}).single().execute()
        why = kit.explain(info.value, capture=c.capture)
    finally:
        c.close()
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f"drop function public.{fn}()")
    assert why.explainer == "postgrest:PGRST116" and why.fix is not None
    assert why.fix.before == f'client.rpc("{fn}", {{}}).single().execute()'
    assert why.fix.after.startswith(f'client.rpc("{fn}", {{}}).limit(1).execute()')


def test_a_forgotten_execute_on_an_update_shows_the_update(stack: Target, notes: str) -> None:
    c = kit.clients(stack)
    try:
        builder = c.sync.table(notes).update({"title": "x"}).eq("id", 2)
        why = kit.explain(builder)
    finally:
        c.close()
    assert why.explainer == "execute_forgotten" and why.fix is not None
    assert why.fix.before == f'rows = supabase.table("{notes}").update({{"title": ...}}).eq("id", 2).data'
    assert '.update({"title": ...}).eq("id", 2).execute().data' in why.fix.after


def test_builders_read_back_as_the_calls_that_made_them() -> None:
    c = SyncPostgrestClient("http://127.0.0.1:1/rest/v1")
    cases = {
        c.from_("t").select("id,name", count="exact").in_("id", [1, 2]).order("id", desc=True)
        .limit(3).single(): 'client.table("t").select("id,name", count="exact").in_("id", [1, 2])'
                            '.order("id", desc=True).limit(3).single().execute()',
        c.from_("t").upsert([{"a": 1}, {"a": 2}], on_conflict="a", ignore_duplicates=True):
            'client.table("t").upsert([{"a": ...}, ...], ignore_duplicates=True, on_conflict="a")'
            '.execute()',
        c.from_("t").delete().neq("x", "y").not_.is_("z", "null"):
            'client.table("t").delete().neq("x", "y").not_.is_("z", "null").execute()',
        c.rpc("fn", {"a": 1}): 'client.rpc("fn", {"a": ...}).execute()',
        c.from_("t").select("*").or_("a.eq.1,b.eq.2").filter("d", "fts", "cat"):
            'client.table("t").select("*").or_("a.eq.1,b.eq.2").filter("d", "fts", "cat").execute()',
    }
    for builder, code in cases.items():
        assert call_of_builder(builder).code() == code
    assert call_of(None, table="t").code(table="u") == 'client.table("u")'

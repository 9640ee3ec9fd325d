"""The service-error catalogue: data loaded into one Registry, and tested against what the
embedded stack really answers (each code produced through the real client picks its entry)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from postgrest.exceptions import APIError

import kit
from kit.explain import CATALOGUE, find_entry
from kit.explain.catalogue import load_catalogue
from kit.targets import Target

ISSUE_SQLSTATES = ("42501", "42P01", "42703", "42883", "23505", "23503", "23502", "22P02", "57014",
                   "40001", "53300", "28P01")


def test_catalogue_is_data_with_meaning_causes_and_fix_for_every_entry() -> None:
    services = {key.split(":")[0] for key in CATALOGUE}
    assert services == {"postgrest", "sqlstate", "storage", "auth"}
    for key, entry in CATALOGUE.items():
        assert entry.title and entry.meaning and entry.causes and entry.fix, key
        assert entry.docs.startswith("https://")
    assert all(find_entry("sqlstate", code) for code in ISSUE_SQLSTATES)
    assert find_entry("storage", "not_found") is find_entry("storage", "NoSuchKey")  # an alias
    assert find_entry("postgrest", "PGRST999") is None
    with pytest.raises(kit.UsageError, match="unknown catalogue entry 'auth:nope'"):
        CATALOGUE.get_or_fail("auth:nope")


def test_a_duplicate_code_in_the_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("storage:\n  A:\n    title: t\n    meaning: m\n    causes: [c]\n    fix: f\n"
                    "    aliases: [A]\n")
    with pytest.raises(kit.UsageError, match="'storage:A' is already registered"):
        load_catalogue(path)


def test_every_code_the_stack_can_answer_is_in_the_catalogue() -> None:
    source = "\n".join(p.read_text() for p in Path(kit.__file__).parent.joinpath("stack").rglob("*.py"))
    answered = set(re.findall(r"\"(PGRST\d{3})\"", source))
    assert len(answered) >= 15
    assert sorted(code for code in answered if find_entry("postgrest", code) is None) == []


def _token(secret: str, **claims: Any) -> str:
    return jwt.encode({"role": "anon", "iss": "supabase", **claims}, secret, algorithm="HS256")


@pytest.fixture(scope="module")
def tables(stack: Target, db_url: str) -> str:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as db:
        db.execute("create table if not exists public.cat_parent (id int primary key)")
        db.execute("create table if not exists public.cat_child (id int primary key, "
                   "a int references public.cat_parent(id), b int references public.cat_parent(id))")
        db.execute("create table if not exists public.cat_lonely (id int primary key)")
        db.execute("notify pgrst, 'reload schema'")
    time.sleep(0.3)
    return "cat"


CALLS: dict[str, Callable[[Any, Target], Any]] = {
    "PGRST100": lambda c, t: c.table("cat_parent").select("*").filter("id", "nope", "1").execute(),
    "PGRST106": lambda c, t: c.schema("hidden").table("x").select("*").execute(),
    "PGRST116": lambda c, t: c.table("cat_parent").select("*").eq("id", -1).single().execute(),
    "PGRST200": lambda c, t: c.table("cat_parent").select("*, cat_lonely(*)").execute(),
    "PGRST201": lambda c, t: c.table("cat_parent").select("*, cat_child(*)").execute(),
    "PGRST202": lambda c, t: c.rpc("cat_nothing", {"x": 1}).execute(),
    "PGRST204": lambda c, t: c.table("cat_parent").insert({"id": 3, "nope": 1}).execute(),
    "PGRST205": lambda c, t: c.table("cat_parents").select("*").execute(),
}


@pytest.mark.parametrize("code", sorted(CALLS))
def test_real_postgrest_answers_pick_their_entry(stack: Target, tables: str, code: str) -> None:
    c = kit.clients(stack, retry=False)
    with pytest.raises(APIError) as info:
        CALLS[code](c.sync, stack)
    assert info.value.code == code
    why = kit.explain(info.value, capture=c.capture)
    entry = find_entry("postgrest", code)
    assert entry is not None and why.explainer == f"postgrest:{code}" and why.confidence == 0.95
    assert entry.meaning in why.cause and why.docs == entry.docs
    assert any(f"'{code}'" in line for line in why.evidence.lines)
    assert why.evidence.exchanges and why.evidence.exchanges[0].status == CATALOGUE[f"postgrest:{code}"].status
    c.close()


@pytest.mark.parametrize(("code", "claims"), [
    ("PGRST301", None),
    ("PGRST303", {"exp": 1_000_000_000}),
])
async def test_jwt_answers_pick_their_entry(stack: Target, code: str, claims: Any) -> None:
    """A valid apikey with a user token PostgREST refuses (another project's, expired)."""
    from supabase import acreate_client

    token = (_token("another project's secret, long enough to sign", exp=int(time.time()) + 600)
             if claims is None else _token(stack.jwt_secret or "", **claims))
    client = await acreate_client(stack.url, stack.anon_key)
    client.postgrest.auth(token)
    with pytest.raises(APIError) as info:
        await client.table("cat_parent").select("*").execute()
    why = kit.explain(info.value)
    assert (info.value.code, why.explainer) == (code, f"postgrest:{code}")
    assert token not in str(why) and token not in repr(why.to_dict())
    await client.postgrest.aclose()

"""The service-error catalogue: data loaded into one Registry, and tested against what the
embedded stack really answers (each code produced through the real client picks its entry)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from postgrest.exceptions import APIError

import kit
from kit.capture import Exchange
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


def test_a_key_of_another_stack_is_explained_from_its_claims_never_shown(
        stack: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    from supabase import create_client

    other = _token("another stack's secret, long enough to sign", role="anon", iat=1_700_000_000)
    monkeypatch.setenv("SUPABASE_KEY", other)
    with pytest.raises(APIError) as info:  # the user's own client: no capture
        create_client(stack.url, os.environ["SUPABASE_KEY"]).table("cat_parent").select("*").execute()
    why = kit.explain(info.value)
    assert why.explainer == "api_key_problem" and why.title.endswith("wrong apikey")
    assert "apikey sent: a JWT, role 'anon', iss 'supabase', issued 2023-11-14 22:13 UTC" in \
        why.evidence.lines
    assert f"sent to {stack.url}" in why.evidence.lines
    assert "the key sent is the value of $SUPABASE_KEY" in why.evidence.lines
    assert why.fix is not None and why.fix.after == (
        f"SUPABASE_KEY=<the anon key from `kit stack status` (or `supabase status`) for {stack.url}>")
    assert "kit.target" not in why.fix.after + why.fix.before  # the user's config, not kit code
    assert other not in str(why) and other not in repr(why.to_dict())


def test_an_anon_write_refused_by_rls_names_the_role_and_command_the_request_carried(
        stack: Target, db_url: str) -> None:
    import psycopg
    from supabase import create_client

    with psycopg.connect(db_url, autocommit=True) as db:
        db.execute("create table if not exists public.cat_locked (id int primary key); "
                   "alter table public.cat_locked enable row level security; "
                   "grant all on public.cat_locked to anon, authenticated")
    with pytest.raises(APIError) as info:  # no capture: the traceback holds the request
        create_client(stack.url, stack.anon_key).table("cat_locked").insert({"id": 1}).execute()
    why = kit.explain(info.value)
    assert why.title == "Row-level security: role 'anon' may not INSERT on cat_locked"
    assert why.evidence.lines[0] == ("request role: anon; command: INSERT; table: cat_locked "
                                     "(from the request the exception holds)")
    assert why.fix is not None and why.fix.before == (
        'client = create_client(url, anon_key)\nclient.table("cat_locked").insert({"id": ...}).execute()')
    assert "for insert to anon" in why.fix.after and "authenticated" not in why.fix.after
    assert stack.anon_key not in str(why)


def _sent(url: str, key: str) -> Exchange:
    from kit.body_store import EMPTY

    return Exchange("GET", url + "/rest/v1/t", (("apikey", key),), EMPTY, 401, (), EMPTY,
                    0.0, 0.0, 0.0)


@pytest.mark.parametrize(("url", "key", "env", "expected"), [
    ("https://abcdefghijklmnopqrst.supabase.co",
     _token("s" * 40, iss="supabase", ref="zyxwvutsrqponmlkjihg"), {},
     [("the URL's project ref is 'abcdefghijklmnopqrst', the key's ref claim is "
       "'zyxwvutsrqponmlkjihg': a key of another project")]),
    ("http://127.0.0.1:54321", "sb_publishable_" + "x" * 30, {"ANON_KEY": None},
     ["apikey sent: an opaque publishable key (sb_publishable_...)", "sent to http://127.0.0.1:54321",
      "the key sent is the value of $ANON_KEY"]),
    ("http://127.0.0.1:54321", "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9", {},
     ["apikey sent: not a JWT (41 characters, 2 dot-separated parts; a truncated copy?)"]),
    ("http://127.0.0.1:54321", _token("s" * 40, role="service_role"), {"ANON_KEY": None},
     ["$ANON_KEY holds a service_role key, not an anon key"]),
])
def test_key_facts_say_what_the_key_is_without_it(url: str, key: str, env: dict[str, Any],
                                                  expected: list[str]) -> None:
    from kit.explain.key_facts import key_facts

    facts = key_facts(_sent(url, key), env={name: key for name in env})
    assert facts is not None
    lines = facts.lines()
    assert [line for line in expected if line not in lines] == [], lines
    assert not any(key in line for line in lines)

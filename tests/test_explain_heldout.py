"""Held-out failures: the same kinds as the corpus, made differently (other calls, builders,
tables, services, codes), none of them in the corpus. The rules are for kinds, so these must
come out right too."""

from __future__ import annotations

import time
import traceback
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import psycopg
import pytest
from explain_corpus import failure, raised
from supabase import acreate_client

import kit
from kit.targets import Target

U = uuid.uuid4().hex[:6]
T = f"ho_items_{U}"


@pytest.fixture(scope="module")
def prepared(stack: Target, db_url: str) -> Iterator[Target]:
    with psycopg.connect(db_url, autocommit=True) as db:
        db.execute(f"create table public.{T} (id int primary key, sku text unique, qty int)")
        db.execute(f"insert into public.{T} values (1, 'a-1', 3)")
        db.execute(f"create table public.ho_private_{U} (id int primary key)")
        db.execute(f"alter table public.ho_private_{U} enable row level security")
        db.execute(f"create policy ro on public.ho_private_{U} for select to anon using (true)")
        db.execute("notify pgrst, 'reload schema'")
    kit.clients(stack).sync.storage.create_bucket(f"ho-private-{U}")
    time.sleep(0.3)
    yield stack


def rule(match: dict[str, Any], effect: dict[str, Any]) -> dict[str, Any]:
    return {"match": match, "effect": effect}


def _svc(t: Target, **options: Any) -> kit.Clients:
    return kit.clients(t, retry=False, **options)


async def _acreate_storage(t: Target) -> list[Any]:
    pending = acreate_client(t.url, t.anon_key)
    try:
        return [await raised(lambda: pending.storage.from_("x"))]  # type: ignore[attr-defined]
    finally:
        pending.close()


async def _await_rpc_builder(t: Target) -> list[Any]:
    return await failure(_svc(t), lambda c: _awaited(c.async_.rpc("anything", {"n": 1})))


async def _awaited(value: Any) -> Any:
    return await value


HELD_OUT: dict[str, tuple[str, Callable[[Target], Awaitable[list[Any]]]]] = {
    "acreate_client not awaited, .storage": ("acreate_client_not_awaited", _acreate_storage),
    "await on an rpc builder": ("await_on_builder", _await_rpc_builder),
    "update without execute, .data": ("execute_forgotten", lambda t: failure(
        _svc(t), lambda c: c.sync.table(T).update({"qty": 1}).eq("id", 1).data)),
    "maybe_single None, .count": ("maybe_single_none", lambda t: failure(
        _svc(t), lambda c: c.sync.table(T).select("*", count="exact").eq("id", 77).maybe_single()
        .execute().count)),
    "JS habit: .status_code on a response": ("error_attribute_on_response", lambda t: failure(
        _svc(t), lambda c: c.sync.table(T).select("id").execute().status_code)),
    "table name in the wrong case": ("postgrest:PGRST205", lambda t: failure(
        _svc(t), lambda c: c.async_.table(T.upper()).select("*").execute())),
    "unique column violated (not the key)": ("sqlstate:23505", lambda t: failure(
        _svc(t), lambda c: c.async_.table(T).insert({"id": 2, "sku": "a-1"}).execute())),
    "upsert refused by RLS for anon": ("sqlstate:42501", lambda t: failure(
        _svc(t, role="anon"), lambda c: c.sync.table(f"ho_private_{U}").upsert({"id": 1}).execute())),
    "private object hidden from anon": ("storage:NoSuchKey", lambda t: failure(
        _svc(t, role="anon"), lambda c: c.sync.storage.from_(f"ho-private-{U}").download("x.csv"))),
    "https port with nothing listening": ("nothing_listening", lambda t: failure(
        _svc(Target("remote", "http://127.0.0.1:443", t.anon_key)),
        lambda c: c.async_.rpc("f", {}).execute())),
    "storage upload rate limited": ("rate_limited", lambda t: failure(
        _svc(t, faults=[rule({"service": "storage", "method": "POST"}, {"rate_limit": 3})]),
        lambda c: c.sync.storage.from_(f"ho-private-{U}").upload("a.txt", b"x"))),
    "auth email taken": ("auth:email_exists", lambda t: failure(
        _svc(t, faults=[rule({"service": "auth"}, {"json_status": 422, "body": {
            "code": 422, "error_code": "email_exists", "msg": "Email address already registered"}})]),
        lambda c: c.sync.auth.sign_up({"email": "b@example.org", "password": "long enough"}))),
    "reauthenticate without a session": ("auth_session_missing", lambda t: failure(
        _svc(t, role="anon"), lambda c: c.async_.auth.reauthenticate())),
    "an auth code the catalogue lacks": ("auth:unlisted", lambda t: failure(
        _svc(t, faults=[rule({"service": "auth"}, {"json_status": 400, "body": {
            "code": 400, "error_code": "brand_new_code", "msg": "Something new"}})]),
        lambda c: c.sync.auth.sign_in_with_password({"email": "b@example.org", "password": "x"}))),
    "payment required, no rule": ("not_recognised", lambda t: failure(
        _svc(t, faults=[rule({"table": T}, {"json_status": 402, "body": {"message": "pay"}})]),
        lambda c: c.sync.table(T).select("*").execute())),
}


@pytest.mark.parametrize("name", sorted(HELD_OUT))
async def test_held_out_failures_of_known_kinds(prepared: Target, name: str) -> None:
    label, produce = HELD_OUT[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        inputs = await produce(prepared)
    why = kit.explain(*inputs)
    assert why.explainer == label, f"{name}: {why!r}\n{why}"
    if label.endswith("unlisted"):
        assert why.confidence < 0.5 and "brand_new_code" in why.title and why.docs
    elif label == "not_recognised":
        assert why.confidence == 0.0 and any("402" in line for line in why.evidence.lines)
    else:
        assert why.confidence >= 0.5


def test_a_pasted_traceback_is_explained_from_its_text(prepared: Target) -> None:
    c = _svc(prepared)
    try:
        c.sync.table(T + "s").select("*").execute()
    except Exception as exc:  # noqa: BLE001
        logged = "".join(traceback.format_exception(exc))
    why = kit.explain(logged)
    assert why.explainer == "postgrest:PGRST205" and T in why.title
    c.close()


async def test_an_earlier_error_in_the_capture_is_context_not_the_cause(prepared: Target) -> None:
    c = _svc(prepared)
    await raised(lambda: c.sync.table(T + "_old").select("*").execute())  # an earlier 404
    rows = c.sync.table(T).select("id").execute().data
    error = await raised(lambda: rows[0]["sku"])  # the app's own KeyError, later
    why = kit.explain(error, capture=c.capture)
    assert why.confidence < 0.5, why  # never a confident wrong cause
    assert any("KeyError" in line for line in why.evidence.lines)
    c.close()


async def test_without_a_hint_the_closest_table_comes_from_the_capture(prepared: Target) -> None:
    c = _svc(prepared, faults=[rule({"table": "ho_itms_" + U}, {"json_status": 404, "body": {
        "code": "PGRST205", "details": None, "hint": None,  # minimal verbosity: no suggestion
        "message": f"Could not find the table 'public.ho_itms_{U}' in the schema cache"}})])
    c.sync.table(T).select("id").execute()
    error = await raised(lambda: c.sync.table("ho_itms_" + U).select("*").execute())
    why = kit.explain(error, capture=c.capture)
    assert why.explainer == "postgrest:PGRST205" and T in why.title
    assert f'client.table("{T}")' in (why.fix.after if why.fix else "")
    c.close()


async def test_an_empty_list_for_anon_alone_is_not_a_confident_rls_verdict(prepared: Target) -> None:
    c = _svc(prepared, role="anon")
    assert c.sync.table(f"ho_private_{U}").select("*").execute().data == []  # no rows at all
    why = kit.explain(c.capture)
    assert why.explainer == "rls_empty_for_anon" and why.confidence < 0.5
    assert "no matching rows" in why.cause
    c.close()


async def test_a_host_that_does_not_resolve(prepared: Target) -> None:
    c = _svc(Target("remote", "http://kit-no-such-project.invalid", prepared.anon_key))
    why = kit.explain(*await failure(c, lambda c: c.sync.table(T).select("*").execute()))
    assert why.explainer == "nothing_listening" and "does not resolve" in why.title
    c.close()

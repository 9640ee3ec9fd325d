"""/rest/v1 errors, keys and JWTs, RLS and the HTTP details (headers, HEAD, Range, profiles).

Errors go through the real sync and async supabase-py clients: both must raise the same
``postgrest.APIError`` with PostgREST's code, message and details. Status codes and headers
the clients hide are checked with raw httpx.
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import AsyncClient, AsyncClientOptions, Client, ClientOptions

from kit.stack.keys import Keys
from kit.targets import Target

OWNER = str(uuid.uuid4())
STRANGER = str(uuid.uuid4())


class World:
    def __init__(self, stack: Target, suffix: str) -> None:
        self.stack = stack
        self.suffix = suffix
        self.items = f"items_{suffix}"
        self.notes = f"notes_{suffix}"
        self.locked = f"locked_{suffix}"
        self.keys = Keys(stack.jwt_secret or "", stack.anon_key, stack.service_role_key or "")

    def client(self, mode: str, *, key: str | None = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        key = key or self.stack.anon_key
        if mode == "sync":
            return Client(self.stack.url, key, ClientOptions(httpx_client=httpx.Client(timeout=60),
                                                             headers=headers))
        return AsyncClient(self.stack.url, key, AsyncClientOptions(
            httpx_client=httpx.AsyncClient(timeout=60), headers=headers))

    def http(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"apikey": key or self.stack.service_role_key or "", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.stack.url}/rest/v1/{path}", headers=headers, timeout=60,
                             **kwargs)


@pytest.fixture(scope="module")
def world(stack: Target, db_url: str) -> Iterator[World]:
    w = World(stack, uuid.uuid4().hex[:8])
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"""
        CREATE TABLE {w.items} (id int PRIMARY KEY, name text UNIQUE NOT NULL, parent int
          REFERENCES {w.items}(id));
        INSERT INTO {w.items} VALUES (1, 'one', NULL), (2, 'two', 1), (3, 'three', 1);
        CREATE TABLE {w.notes} (id serial PRIMARY KEY, owner uuid, body text, public bool NOT NULL);
        ALTER TABLE {w.notes} ENABLE ROW LEVEL SECURITY;
        CREATE POLICY read_public ON {w.notes} FOR SELECT TO anon, authenticated USING (public);
        CREATE POLICY own_rows ON {w.notes} FOR ALL TO authenticated
          USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
        INSERT INTO {w.notes} (owner, body, public) VALUES
          ('{OWNER}', 'owner public', true), ('{OWNER}', 'owner private', false),
          ('{STRANGER}', 'stranger private', false);
        CREATE TABLE {w.locked} (id int);
        REVOKE ALL ON {w.locked} FROM anon, authenticated;
        CREATE FUNCTION fail_{w.suffix}() RETURNS int LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'nope, said the function' USING HINT = 'ask nicely'; END $$;
        """)  # type: ignore[arg-type]
    yield w
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {w.items}, {w.notes}, {w.locked}; DROP FUNCTION fail_{w.suffix}")  # type: ignore[arg-type]


async def raised(op: Callable[[], Any]) -> APIError:
    with pytest.raises(APIError) as info:
        result = op()
        if inspect.isawaitable(result):
            await result
    return info.value


def summary(err: APIError) -> tuple[Any, ...]:
    return (err.code, err.message, err.details, err.hint)


ERRORS: dict[str, tuple[Callable[[Any, World], Any], Callable[[World], tuple[Any, ...]]]] = {
    "single with no row": (lambda c, w: c.table(w.items).select("*").eq("id", 99).single(),
                           lambda w: ("PGRST116", "JSON object requested, multiple (or no) rows returned",
                            "The result contains 0 rows", None)),
    "single with three rows": (lambda c, w: c.table(w.items).select("*").single(),
                               lambda w: ("PGRST116", "JSON object requested, multiple (or no) rows returned",
                                "The result contains 3 rows", None)),
    "unknown column": (lambda c, w: c.table(w.items).select("id,nope"),
                       lambda w: ("42703", f"column {w.items}.nope does not exist", None, None)),
    "unique violation": (lambda c, w: c.table(w.items).insert({"id": 10, "name": "one"}),
                         lambda w: ("23505", f'duplicate key value violates unique constraint "{w.items}_name_key"',
                          "Key (name)=(one) already exists.", None)),
    "foreign key violation": (lambda c, w: c.table(w.items).insert({"id": 11, "name": "x", "parent": 77}),
                              lambda w: ("23503", (f'insert or update on table "{w.items}" violates foreign key '
                               f'constraint "{w.items}_parent_fkey"'),
                               f'Key (parent)=(77) is not present in table "{w.items}".', None)),
    "invalid integer": (lambda c, w: c.table(w.items).select("*").eq("id", "abc"),
                        lambda w: ("22P02", 'invalid input syntax for type integer: "abc"', None, None)),
    "unknown table": (lambda c, w: c.table(f"{w.items}x").select("*"),
                      lambda w: ("PGRST205", f"Could not find the table 'public.{w.items}x' in the schema cache",
                       None, f"Perhaps you meant the table 'public.{w.items}'")),
    "unknown insert column": (lambda c, w: c.table(w.items).insert({"id": 12, "name": "y", "color": "red"}),
                              lambda w: ("PGRST204", (f"Could not find the 'color' column of '{w.items}' in the "
                               "schema cache"), None, None)),
    "malformed filter": (lambda c, w: c.table(w.items).select("*").filter("id", "eqq", "1"),
                         lambda w: ("PGRST100", "failed to parse filter (id=eqq.1)", None, "check the query parameter 'id'")),
    "unquoted range in a logic tree": (
        lambda c, w: c.table(w.items).select("*").or_("id.eq.1,span.ov.[1,5)"),
        lambda w: ("PGRST100", "failed to parse logic tree ((id.eq.1,span.ov.[1,5)))",
                   'at character 18: the range starting \'[1\' has a comma: inside and=/or= quote it, '
                   'e.g. "[1,5)"', "check the query parameter 'or'")),
    "raise in function": (lambda c, w: c.rpc(f"fail_{w.suffix}", {}),
                          lambda w: ("P0001", "nope, said the function", None, "ask nicely")),
    "unknown function": (lambda c, w: c.rpc(f"missing_{w.suffix}", {"a": 1}),
                         lambda w: ("PGRST202", (f"Could not find the function public.missing_{w.suffix}(a) in the "
                          "schema cache"), None, None)),
}

def normalized(expected: tuple[Any, ...], err: APIError) -> tuple[Any, ...]:
    """Compare details only where PostgREST fixes them (None means: any details)."""
    code, message, details, hint = expected
    return (code, message, details if details is not None else err.details,
            hint if hint is not None else err.hint)


@pytest.mark.parametrize("name", list(ERRORS))
async def test_errors_sync_and_async_raise_the_same(name: str, world: World) -> None:
    op, expectation = ERRORS[name]
    key = world.stack.service_role_key
    sync_err = await raised(lambda: op(world.client("sync", key=key), world).execute())
    async_err = await raised(lambda: op(world.client("async", key=key), world).execute())
    assert summary(sync_err) == summary(async_err)
    assert summary(sync_err) == normalized(expectation(world), sync_err)


def test_error_statuses_and_proxy_status(world: World) -> None:
    cases = {
        f"{world.items}?id=eq.99": ("GET", 406, "PGRST116", {"Accept": "application/vnd.pgrst.object+json"}),
        f"{world.items}?select=nope": ("GET", 400, "42703", {}),
        f"{world.items}x": ("GET", 404, "PGRST205", {}),
        f"{world.items}?id=gt": ("GET", 400, "PGRST100", {}),
        f"{world.items}?or=(id.eq.1": ("GET", 400, "PGRST100", {}),
        f"{world.items}?order=id.up": ("GET", 400, "PGRST100", {}),
        f"{world.items}?limit=ten": ("GET", 400, "PGRST100", {}),
        f"{world.items}?select=id": ("GET", 406, "PGRST106", {"Accept-Profile": "nowhere"}),
        f"{world.items}?select=id&id=eq.1": ("PUT", 405, "PGRST117", {}),
        f"rpc/fail_{world.suffix}": ("POST", 400, "P0001", {}),
        f"rpc/missing_{world.suffix}": ("POST", 404, "PGRST202", {}),
    }
    for path, (method, status, code, headers) in cases.items():
        response = world.http(method, path, headers=headers, json={} if method != "GET" else None)
        assert (path, response.status_code, response.json()["code"]) == (path, status, code)
        assert response.headers["proxy-status"] == f"PostgREST; error={code}"
        assert set(response.json()) == {"code", "message", "details", "hint"}
    unknown = world.http("GET", f"{world.items}x")
    assert unknown.content == (  # aeson's encoding: compact, keys sorted, null kept
        '{"code":"PGRST205","details":null,"hint":"Perhaps you meant the table '
        f"'public.{world.items}'\",\"message\":\"Could not find the table 'public.{world.items}x' in "
        'the schema cache"}').encode()
    bad_text = world.http("GET", f"{world.items}?id=eq.%C3%A9%09")
    assert bad_text.content == ('{"code":"22P02","details":null,"hint":null,"message":"invalid input '
                                'syntax for type integer: \\"é\\t\\""}').encode()
    duplicate = world.http("POST", world.items, json={"id": 1, "name": "dup"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "23505")


def test_permission_denied_is_401_for_anon_and_403_for_a_user(world: World) -> None:
    user = world.keys.user_token(OWNER)
    anon = world.http("GET", world.locked, key=world.stack.anon_key)
    signed_in = world.http("GET", world.locked, key=world.stack.anon_key,
                           headers={"Authorization": f"Bearer {user}"})
    assert (anon.status_code, anon.json()["code"]) == (401, "42501")
    assert (signed_in.status_code, signed_in.json()["code"]) == (403, "42501")
    assert anon.json()["message"] == f"permission denied for table {world.locked}"


def test_missing_and_unknown_apikey_are_rejected_at_the_gateway(world: World) -> None:
    missing = httpx.get(f"{world.stack.url}/rest/v1/{world.items}", timeout=60)
    assert (missing.status_code, missing.json()["message"]) == (401, "No API key found in request")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_bad_keys_and_jwts_raise_api_errors(mode: str, world: World) -> None:
    expired = world.keys.sign({"role": "authenticated", "sub": OWNER, "iat": int(time.time()) - 7200,
                               "exp": int(time.time()) - 3600})
    forged = jwt.encode({"role": "service_role", "iss": "kit"}, "a-different-secret-of-at-least-32-bytes", algorithm="HS256")
    keyless = world.client(mode)
    del keyless.postgrest.headers["apikey"]  # as a proxy that strips headers would
    err = await raised(lambda: keyless.table(world.items).select("*").execute())
    assert (err.code, err.message, err.hint) == (None, "No API key found in request",
                                                 "No `apikey` request header or url param was found.")
    unknown_key = world.client(mode, key="not-a-project-key")
    err = await raised(lambda: unknown_key.table(world.items).select("*").execute())
    assert (err.code, err.message) == (None, "Invalid API key")
    err = await raised(lambda: world.client(mode, token=expired).table(world.items).select("*").execute())
    assert (err.code, err.message) == ("PGRST303", "JWT expired")
    err = await raised(lambda: world.client(mode, token=forged).table(world.items).select("*").execute())
    assert (err.code, err.message) == ("PGRST301", "JWT cryptographic operation failed")  # v13


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_rls_anon_service_and_user_see_different_rows(mode: str, world: World) -> None:
    async def bodies(client: Any) -> list[str]:
        result = client.table(world.notes).select("body").order("id").execute()
        result = await result if inspect.isawaitable(result) else result
        return [row["body"] for row in result.data]

    assert await bodies(world.client(mode)) == ["owner public"]
    assert await bodies(world.client(mode, key=world.stack.service_role_key)) == [
        "owner public", "owner private", "stranger private"]
    owner = world.client(mode, token=world.keys.user_token(OWNER))
    assert await bodies(owner) == ["owner public", "owner private"]
    # writes are checked too: the user cannot write a row for somebody else
    err = await raised(lambda: owner.table(world.notes).insert({"owner": STRANGER, "body": "x",
                                                                "public": True}).execute())
    assert (err.code, err.message) == ("42501", (f'new row violates row-level security policy for table '
                                                f'"{world.notes}"'))


def test_head_range_and_content_range(world: World) -> None:
    head = world.http("HEAD", f"{world.items}?select=id", headers={"Prefer": "count=exact"})
    assert (head.status_code, head.content, head.headers["content-range"]) == (200, b"", "0-2/3")
    ranged = world.http("GET", f"{world.items}?select=id&order=id", headers={"Range": "1-1"})
    assert (ranged.status_code, ranged.json(), ranged.headers["content-range"]) == (200, [{"id": 2}], "1-1/*")
    partial = world.http("GET", f"{world.items}?select=id&order=id&limit=2",
                         headers={"Prefer": "count=exact"})
    assert (partial.status_code, partial.headers["content-range"]) == (206, "0-1/3")
    empty = world.http("GET", f"{world.items}?id=eq.0")
    assert (empty.json(), empty.headers["content-range"]) == ([], "*/*")
    missing = world.http("HEAD", f"{world.items}x")
    assert (missing.status_code, missing.content, missing.headers["proxy-status"]) == (
        404, b"", "PostgREST; error=PGRST205")


def test_media_types_and_preferences(world: World) -> None:
    stripped = world.http("GET", f"{world.items}?select=id,parent&id=eq.1",
                          headers={"Accept": "application/vnd.pgrst.array+json;nulls=stripped"})
    assert stripped.json() == [{"id": 1}]
    csv_text = world.http("GET", f"{world.items}?select=id,name&order=id&limit=2", headers={"Accept": "text/csv"})
    assert (csv_text.headers["content-type"], csv_text.text) == ("text/csv; charset=utf-8",
                                                                 "id,name\n1,one\n2,two")
    refused = world.http("GET", world.items, headers={"Accept": "application/xml"})
    assert (refused.status_code, refused.json()["code"]) == (406, "PGRST107")
    created = world.http("POST", world.items, json={"id": 40, "name": "forty"},
                         headers={"Prefer": "return=headers-only"})
    assert (created.status_code, created.content, created.headers["location"]) == (
        201, b"", f"/{world.items}?id=eq.40")
    gone = world.http("DELETE", f"{world.items}?id=eq.40", headers={"Prefer": "return=minimal,count=exact"})
    assert (gone.status_code, gone.headers["content-range"]) == (204, "*/1")
    rolled_back = world.http("PATCH", f"{world.items}?parent=eq.1", json={"parent": None},
                             headers={"Prefer": "return=representation",
                                      "Accept": "application/vnd.pgrst.object+json"})
    assert (rolled_back.status_code, rolled_back.json()["details"]) == (406, "The result contains 2 rows")
    still = world.http("GET", f"{world.items}?select=name&parent=eq.1&order=id")
    assert still.json() == [{"name": "two"}, {"name": "three"}]  # the 406 rolled the update back


def test_embedding_errors_say_what_is_missing(world: World) -> None:
    self_ref = world.http("GET", f"{world.items}?select=id,{world.items}(id)")
    assert (self_ref.status_code, self_ref.json()["code"]) == (300, "PGRST201")
    hinted = world.http("GET", f"{world.items}?select=id,up:{world.items}!{world.items}_parent_fkey(name)"
                               "&id=eq.2")
    assert hinted.json() == [{"id": 2, "up": {"name": "one"}}]
    unrelated = world.http("GET", f"{world.items}?select=id,{world.notes}(body)")
    assert (unrelated.status_code, unrelated.json()["code"]) == (400, "PGRST200")
    nested = world.http("GET", f"{world.items}?select=id,a:{world.items}(b:{world.items}(id))")
    assert (nested.status_code, nested.json()["details"]) == (
        400, "only one level of embedded resources is supported")


def test_schema_cache_sees_new_tables_and_columns_at_once(world: World, db_url: str) -> None:
    table = f"fresh_{world.suffix}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")  # type: ignore[arg-type]
        assert world.http("GET", table).json() == []
        conn.execute(f"ALTER TABLE {table} ADD COLUMN label text")  # type: ignore[arg-type]
        inserted = world.http("POST", table, json={"id": 1, "label": "new column"},
                              headers={"Prefer": "return=representation"})
        assert (inserted.status_code, inserted.json()) == (201, [{"id": 1, "label": "new column"}])
        conn.execute(f"DROP TABLE {table}")  # type: ignore[arg-type]
    assert world.http("GET", table).json()["code"] == "PGRST205"

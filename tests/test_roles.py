"""The role model (kit.stack.roles): API requests connect as the login role, take their role
per transaction, and a session changed by one request never reaches the next.

Through the real supabase-py clients where a client is involved; the pool itself is also
driven directly, on the stack's real PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import Client, ClientOptions, create_client

from kit.stack.keys import Keys
from kit.stack.roles import Auth, RequestPool, prepare_login_role
from kit.targets import Target

SUFFIX = uuid.uuid4().hex[:8]
SECRETS = f"secrets_{SUFFIX}"
USER = str(uuid.uuid4())

# Each function is a way a request could try to leave its role or change its session.
FUNCTIONS = {
    "whoami": "RETURNS jsonb LANGUAGE sql AS $$ SELECT jsonb_build_object('session_user', "
              "session_user, 'current_user', current_user, 'superuser', "
              "current_setting('is_superuser'), 'claims', auth.jwt()) $$",
    "to_postgres": "RETURNS text LANGUAGE sql AS $$ SELECT set_config('role', 'postgres', true) $$",
    "to_postgres_dynamic": "RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SET ROLE postgres'; END $$",
    "session_to_service_role": "RETURNS text LANGUAGE sql AS "
                               "$$ SELECT set_config('role', 'service_role', false) $$",
    "session_claims": "RETURNS text LANGUAGE sql AS $$ SELECT set_config('request.jwt.claims', "
                      "'{\"role\": \"service_role\"}', false) $$",
    "session_search_path": "RETURNS text LANGUAGE sql AS "
                           "$$ SELECT set_config('search_path', 'pg_temp, public', false) $$",
    "session_time_zone": "RETURNS text LANGUAGE sql AS $$ SELECT set_config('TimeZone', 'Asia/Tokyo', false) $$",
    "request_locals": "RETURNS jsonb LANGUAGE sql AS $$ SELECT jsonb_build_object('method', "
                      "current_setting('request.method', true), 'path', current_setting('request.path', true), "
                      "'headers', current_setting('request.headers', true)::jsonb) $$",
}


@pytest.fixture(scope="module")
def world(stack: Target, db_url: str) -> Iterator[Target]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {SECRETS} (id int PRIMARY KEY, secret text); "  # type: ignore[arg-type]
                     f"INSERT INTO {SECRETS} VALUES (1, 'only for service_role'); "
                     f"ALTER TABLE {SECRETS} ENABLE ROW LEVEL SECURITY")
        for name, body in FUNCTIONS.items():
            conn.execute(f"CREATE FUNCTION {name}_{SUFFIX}() {body}")  # type: ignore[arg-type]
    yield stack
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {SECRETS}")  # type: ignore[arg-type]
        for name in FUNCTIONS:
            conn.execute(f"DROP FUNCTION {name}_{SUFFIX}()")  # type: ignore[arg-type]


def client(stack: Target, role: str) -> Client:
    key = stack.service_role_key if role == "service_role" else stack.anon_key
    headers = {}
    if role == "user":
        keys = Keys(stack.jwt_secret or "", stack.anon_key, stack.service_role_key or "")
        headers = {"Authorization": f"Bearer {keys.user_token(USER)}"}
    return create_client(stack.url, key or "", ClientOptions(headers=headers))


def rpc_error(c: Client, name: str) -> APIError:
    with pytest.raises(APIError) as caught:
        c.rpc(f"{name}_{SUFFIX}").execute()
    return caught.value


@pytest.mark.parametrize("role, current", [("anon", "anon"), ("user", "authenticated"),
                                           ("service_role", "service_role")])
def test_requests_connect_as_the_login_role_never_a_superuser(world: Target, role: str,
                                                              current: str) -> None:
    me: dict[str, Any] = client(world, role).rpc(f"whoami_{SUFFIX}").execute().data
    assert me["session_user"] == "authenticator"
    assert (me["current_user"], me["superuser"], me["claims"]["role"]) == (current, "off", current)


@pytest.mark.parametrize("function", ["to_postgres", "to_postgres_dynamic"])
def test_becoming_postgres_fails_42501_as_on_supabase(world: Target, function: str) -> None:
    # PostgREST v13 (Error.hs pgErrorStatus): 42501 is 403 for a signed-in role, 401 for anon
    err = rpc_error(client(world, "user"), function)
    assert (err.code, err.message) == ("42501", 'permission denied to set role "postgres"')
    assert rpc_error(client(world, "anon"), function).code == "42501"


@pytest.mark.parametrize("function", ["session_to_service_role", "session_claims",
                                      "session_search_path", "session_time_zone"])
def test_a_session_change_never_reaches_a_later_request(world: Target, function: str) -> None:
    anon = client(world, "anon")
    for _ in range(6):  # the pool is last in first out: the next request gets the same connection
        anon.rpc(f"{function}_{SUFFIX}").execute()
        assert anon.table(SECRETS).select("*").execute().data == []
        me = anon.rpc(f"whoami_{SUFFIX}").execute().data
        assert (me["current_user"], me["claims"]["role"]) == ("anon", "anon")
    assert len(client(world, "service_role").table(SECRETS).select("*").execute().data) == 1


async def test_the_pool_closes_a_changed_session_and_retries_on_a_fresh_one(stack: Target,
                                                                           db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as admin:
        login = await prepare_login_role(admin, db_url)
    assert "password=" in login and "authenticator" in login
    pool = RequestPool(login, max_size=1)
    assert "password" not in repr(pool)
    try:
        async with pool.transaction(Auth("anon")) as conn:
            await conn.execute("SELECT set_config('role', 'service_role', false)")
        [first] = pool._idle
        async with pool.transaction(Auth("anon")) as conn:
            row = await (await conn.execute("SELECT current_user, current_setting('request.jwt.claims')")).fetchone()
        assert row == ("anon", '{"role": "anon"}')
        assert first.closed and pool._idle and pool._idle[0] is not first
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            async with pool.transaction(Auth("postgres")):
                pass
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            async with pool.transaction(Auth("no_such_role")):
                pass
        async with pool.transaction(Auth("authenticated", {"sub": USER})) as conn:  # still usable
            row = await (await conn.execute("SELECT current_user, auth.uid()::text")).fetchone()
        assert row == ("authenticated", USER)
    finally:
        await pool.close()


def test_sql_reads_the_request_method_path_and_headers_as_postgrest_sets_them(world: Target) -> None:
    """PostgREST's setPgLocals: request.method, request.path (below /rest/v1) and request.headers
    (lower-case names): an RLS policy or a trigger can read a header, e.g. a tenant or a test tag."""
    tagged = create_client(world.url, world.anon_key or "", ClientOptions(headers={"X-Tenant-Id": "t-42"}))
    seen: dict[str, Any] = tagged.rpc(f"request_locals_{SUFFIX}").execute().data
    assert (seen["method"], seen["path"]) == ("POST", f"/rpc/request_locals_{SUFFIX}")
    assert seen["headers"]["x-tenant-id"] == "t-42" and "accept" in seen["headers"]
    for _ in range(3):  # transaction-local: the next request on the same connection has its own
        plain: dict[str, Any] = client(world, "anon").rpc(f"request_locals_{SUFFIX}").execute().data
        assert "x-tenant-id" not in plain["headers"]


def test_the_login_role_has_postgrest_attributes(sql: Any) -> None:
    row = sql("SELECT rolcanlogin, rolinherit, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, "
              "ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
              "WHERE m.member = r.oid ORDER BY 1) FROM pg_roles r WHERE rolname = 'authenticator'"
              ).fetchone()
    assert row == (True, False, False, False, False, False, ["anon", "authenticated", "service_role"])


# -- JWT claims as PostgREST v13 answers them -------------------------------------------------

def signed(stack: Target, claims: dict[str, Any]) -> str:
    import jwt

    return jwt.encode(claims, stack.jwt_secret or "", algorithm="HS256")


def rest(stack: Target, path: str, token: str | None, **headers: str) -> Any:
    import httpx

    sent = {"apikey": stack.anon_key, **headers}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}" if token else "Bearer"  # httpx strips "Bearer "
    return httpx.get(f"{stack.url}/rest/v1/{path}", headers=sent, timeout=60)


@pytest.fixture(scope="module")
def stranger(db_url: str) -> Iterator[str]:
    """A role that exists but the login role was never granted."""
    name = f"kit_stranger_{SUFFIX}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} NOLOGIN")  # type: ignore[arg-type]
    yield name
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE {name}")  # type: ignore[arg-type]


def test_a_jwt_without_role_is_anon(world: Target) -> None:
    now = int(__import__("time").time())
    response = rest(world, f"rpc/whoami_{SUFFIX}", signed(world, {"sub": USER, "exp": now + 60}))
    assert response.status_code == 200
    assert (response.json()["current_user"], response.json()["claims"]["role"]) == ("anon", "anon")


@pytest.mark.parametrize("role, status, code, message", [
    ("nobody_{s}", 401, "22023", 'role "nobody_{s}" does not exist'),
    (7, 401, "22023", 'role "7" does not exist'),
    ("postgres", 403, "42501", 'permission denied to set role "postgres"'),
    ("stranger", 403, "42501", 'permission denied to set role "{stranger}"'),
    ("pg_read_all_data", 403, "42501", 'permission denied to set role "pg_read_all_data"'),
])
def test_a_role_the_login_role_cannot_become_answers_as_postgrest(
        world: Target, stranger: str, role: Any, status: int, code: str, message: str) -> None:
    if role == "stranger":
        role = stranger
    if isinstance(role, str):
        role = role.format(s=SUFFIX)
    token = signed(world, {"role": role, "exp": int(__import__("time").time()) + 60})
    for path in (SECRETS, f"rpc/whoami_{SUFFIX}"):
        response = rest(world, path, token)
        assert (response.status_code, response.json()["code"], response.json()["message"]) == (
            status, code, message.format(s=SUFFIX, stranger=stranger))
    stored = __import__("httpx").get(f"{world.url}/storage/v1/bucket", timeout=60,
                                     headers={"apikey": world.anon_key, "Authorization": f"Bearer {token}"})
    assert (stored.status_code, stored.json()["statusCode"], stored.json()["error"]) == (
        400, "403", "Unauthorized")


@pytest.mark.parametrize("claims, code, message", [
    ({"role": "anon", "exp": "soon"}, "PGRST303", "The JWT 'exp' claim must be a number"),
    ({"role": "anon", "nbf": 4102444800}, "PGRST303", "JWT not yet valid"),
    ({"role": "anon", "iat": 4102444800}, "PGRST303", "JWT issued at future"),
    ({"role": "anon", "exp": 1}, "PGRST303", "JWT expired"),
    ({"role": "anon", "aud": 5}, "PGRST303", "The JWT 'aud' claim must be a string or an array of strings"),
])
def test_claims_postgrest_refuses_are_401_with_its_code(world: Target, claims: dict[str, Any],
                                                         code: str, message: str) -> None:
    response = rest(world, SECRETS, signed(world, claims))
    assert (response.status_code, response.json()["code"], response.json()["message"]) == (401, code, message)
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize("token, message", [("", "Empty JWT is sent in Authorization header"),
                                            ("abc.def", "Expected 3 parts in JWT; got 2"),
                                            ("a.b.c", "JWT couldn't be decoded")])
def test_tokens_postgrest_cannot_decode_are_pgrst301(world: Target, token: str, message: str) -> None:
    response = rest(world, SECRETS, token)
    assert (response.status_code, response.json()["code"], response.json()["message"]) == (
        401, "PGRST301", message)


# -- exposed schemas: an allow-list, as PostgREST's db-schemas ---------------------------------

@pytest.mark.parametrize("header", ["Accept-Profile", "Content-Profile"])
@pytest.mark.parametrize("schema", ["storage", "auth", "kit_meta", "pg_catalog", "information_schema",
                                    "no_such_schema"])
def test_a_schema_not_exposed_is_406_pgrst106_listing_the_exposed(world: Target, header: str,
                                                                  schema: str) -> None:
    import httpx

    method = "GET" if header == "Accept-Profile" else "POST"
    response = httpx.request(method, f"{world.url}/rest/v1/objects", timeout=60, json={},
                             headers={"apikey": world.service_role_key or "", header: schema})
    assert (response.status_code, response.json()["code"], response.json()["message"]) == (
        406, "PGRST106", f"Invalid schema: {schema}")
    assert response.json()["hint"] == ("Only the following schemas are exposed: "
                                       "public, graphql_public, kit_rest_profile")

"""Property: no query string makes /rest/v1 answer 5xx, and none changes data it only reads.

Hypothesis generates 2,000 select / filter / order / logic / paging strings, half following
PostgREST's grammar with hostile values (quotes, parentheses, SQL fragments, unicode, NUL),
half plain noise, and sends them with GET and HEAD through the gateway. A canary table's row
count and checksum must be unchanged afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import CLASSES, HOSTILE_INPUT, Hostile, Tally, files_under, json_body
from kit.stack.rest.grammar import OPERATORS
from kit.targets import Target

pytestmark = pytest.mark.slow

TABLE = f"canary_{uuid.uuid4().hex[:8]}"
COLUMNS = ["id", "name", "n", "data", "tags", "data->a", "data->>b", "tags->0", "nope", '"name"']
HOSTILE = ["'", '"', "''", "\\", "(", ")", ",", ".", ":", "::", "*", "%", "{", "}", "->", "->>",
           "; DROP TABLE " + TABLE + "; --", "1 OR 1=1", f"{TABLE}; DELETE FROM {TABLE}",
           "\x00", "null", "true", "é", "日本", "%s", "%(p0)s", "{{a,b}}", "(1,2)", "not", "and(", "or("]

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)
value = st.one_of(st.sampled_from(HOSTILE), text, st.integers(-5, 10**12).map(str),
                  st.tuples(st.sampled_from(HOSTILE), text).map("".join))
known_column = st.sampled_from(["id", "name", "n", "data->>b", "data->a", "tags", "name->>0"])
column = st.one_of(known_column, st.sampled_from(COLUMNS), text)
operator = st.one_of(st.sampled_from([*OPERATORS, "like(any)", "eq(all)", "fts(english)", "not.eq",
                                      "not.in", "is"]), text)
quoted = value.map(lambda v: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"')
listed = st.lists(st.one_of(value, quoted), max_size=3).map(",".join)
bound = st.one_of(st.integers(-9, 99).map(str), st.just(""), text)
span = st.builds("{}{},{}{}".format, st.sampled_from("[("), bound, bound, st.sampled_from("])"))
logic_value = st.one_of(value, quoted, listed.map("{{{}}}".format), listed.map("({})".format),
                        span, span.map('"{}"'.format), listed.map("{{{{{}}},{{1}}}}".format))
condition = st.builds("{}.{}.{}".format, column, operator, logic_value)
logic = st.builds("({},{}({},{}))".format, condition, st.sampled_from(["and", "or", "not.and"]),
                  condition, condition)
alias = st.sampled_from(["a b", "x%sy", 'q"uote', "é", "1", "select", "'; drop", "%%"])
select_item = st.one_of(st.sampled_from(["*", "id", "n:name", "name::text", "data->a", "x:data->>b::int",
                                         f"{TABLE}(id)", "count()", "...x(id)", "name::nope"]),
                        column, st.builds("{}:{}".format, alias, known_column),
                        st.builds("{}::{}".format, known_column, text))
direction = st.sampled_from(["", ".asc", ".desc", ".desc.nullsfirst", ".nullslast", ".sideways"])
pair = st.one_of(
    st.tuples(known_column, st.builds("{}.{}".format, operator, value)),
    st.tuples(st.just("name"), st.builds("{}.{}".format, st.sampled_from(OPERATORS), text)),
    st.tuples(st.just("select"), st.lists(select_item, min_size=1, max_size=3).map(",".join)),
    st.tuples(st.just("order"), st.builds("{}{}".format, column, direction)),
    st.tuples(st.sampled_from(["limit", "offset"]), value),
    st.tuples(column, st.builds("{}.{}".format, operator, value)),
    st.tuples(st.sampled_from(["or", "and", "not.or"]), logic),
    st.tuples(text, value),
)
query = st.lists(pair, min_size=1, max_size=3)


@pytest.fixture(scope="module")
def canary(stack: Target, db_url: str) -> Iterator[str]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"""CREATE TABLE {TABLE} (id int PRIMARY KEY, name text, n int, data jsonb,
                         tags text[]);
                         INSERT INTO {TABLE} SELECT i, 'row ' || i, i * 7, jsonb_build_object('a', i, 'b', 'x'),
                         ARRAY['t' || i] FROM generate_series(1, 25) i""")  # type: ignore[arg-type]
    yield TABLE
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {TABLE}")  # type: ignore[arg-type]


def fingerprint(db_url: str, *, canary_only: bool = False) -> tuple[int, str]:
    where = " WHERE id <= 25" if canary_only else ""  # the 25 seeded rows
    with psycopg.connect(db_url) as conn:
        row = conn.execute(f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM {TABLE} t{where}").fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0], row[1]


def test_no_query_string_gives_5xx_or_changes_data(canary: str, stack: Target, db_url: str) -> None:
    before = fingerprint(db_url)
    server_errors: list[tuple[str, str, int]] = []
    seen = {"requests": 0, "4xx": 0, "2xx": 0}
    headers = {"apikey": stack.service_role_key or ""}
    with httpx.Client(base_url=f"{stack.url}/rest/v1", headers=headers, timeout=60) as http:

        # four query strings per example: 500 examples send 2,000 requests, and hypothesis'
        # own generation cost (high on a busy 2-core machine) is paid per example
        @settings(max_examples=500, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(query, min_size=4, max_size=4), st.sampled_from(["GET", "GET", "GET", "HEAD"]))
        def check(queries: list[list[tuple[str, str]]], method: str) -> None:
            for pairs in queries:
                response = http.request(method, f"/{canary}", params=pairs)
                seen["requests"] += 1
                seen["4xx"] += 400 <= response.status_code < 500
                seen["2xx"] += response.status_code < 300
                if response.status_code >= 500:
                    server_errors.append((method, str(response.request.url.query), response.status_code))

        check()
    assert server_errors == []
    assert seen["requests"] >= 2000
    # the generator produced both: bad input, and hostile values that reached the database
    assert seen["4xx"] > seen["requests"] // 4 and seen["2xx"] > seen["requests"] // 20
    assert fingerprint(db_url) == before


# -- every hostile input class into every /rest/v1 route, query value, body field and path -----

FUNCTION = f"fuzz_echo_{TABLE}"
# (method, path, query fields, body fields or None); "{t}" the canary table, "{f}" a function
REST_ROUTES: list[tuple[str, str, dict[str, str], dict[str, Any] | None]] = [
    ("GET", "{t}", {"select": "id,name", "id": "eq.", "name": "eq.", "n": "gt.", "data->>b": "eq.",
                    "tags": "cs.", "limit": "", "offset": "", "order": "", "or": ""}, None),
    ("HEAD", "{t}", {"select": "id", "name": "eq.", "limit": ""}, None),
    ("POST", "{t}", {"columns": "", "on_conflict": "", "select": ""},
     {"id": 1000, "name": "x", "n": 1, "data": {"a": 1}, "tags": ["t"]}),
    ("PATCH", "{t}", {"id": "eq.", "name": "eq."}, {"name": "x", "n": 1, "data": {"a": 1}, "tags": ["t"]}),
    ("DELETE", "{t}", {"id": "eq.", "name": "eq."}, None),
    ("GET", "rpc/{f}", {"x": "", "n": ""}, None),
    ("POST", "rpc/{f}", {"select": ""}, {"x": "a", "n": 1}),
    ("GET", "", {"anything": ""}, None),
]
SAFE_FILTER = {"id": "eq.-1", "name": "eq.nobody"}  # writes never reach the canary rows


@pytest.fixture(scope="module")
def echo(canary: str, db_url: str) -> Iterator[str]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"CREATE FUNCTION {FUNCTION}(x text, n int DEFAULT 0) RETURNS text "  # type: ignore[arg-type]
                     "LANGUAGE sql AS 'SELECT x || n::text'")
    yield FUNCTION
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"DROP FUNCTION {FUNCTION}")  # type: ignore[arg-type]


def hostile_rest_request(route: int, place: str, value: Hostile, names: tuple[str, str]
                         ) -> tuple[str, str, bytes | None, dict[str, str]]:
    """(method, URL path and query, body, extra headers) with ``value`` at ``place``."""
    method, path, query, body = REST_ROUTES[route]
    segment = value.quoted if place == "path" else None
    path = path.format(t=segment or names[0], f=segment or names[1])
    pairs = [f"{quote(k)}={quote(v)}" for k, v in SAFE_FILTER.items()] if method in ("PATCH", "DELETE") else []
    headers = {"Prefer": "return=representation"} if method in ("POST", "PATCH") else {}
    if place.startswith("query:"):
        name = place[6:]
        pairs.append(f"{quote(name)}={quote(query[name])}{value.quoted}")
    if place == "header":
        headers["x-fuzz"] = value.raw.decode("latin-1")
    content = None
    if body is not None:
        content = json_body(body, place[5:] if place.startswith("body:") else None, value)
        headers["Content-Type"] = "application/json"
    return method, "/" + path + ("?" + "&".join(pairs) if pairs else ""), content, headers


def places(route: int, value: Hostile) -> list[str]:
    method, path, query, body = REST_ROUTES[route]
    found = [f"query:{q}" for q in query] + [f"body:{b}" for b in body or {}]
    if "{" in path:
        found.append("path")
    if value.kind == "oversized":
        found.append("header")  # the only class a header value can carry
    return found


def test_every_hostile_class_in_every_rest_route_is_a_4xx(canary: str, echo: str, stack: Target,
                                                          db_url: str, stack_dir: Path) -> None:
    before = fingerprint(db_url, canary_only=True)
    files_before = files_under(stack_dir.parent.parent, stack_dir)
    tally = Tally()
    with httpx.Client(base_url=f"{stack.url}/rest/v1", timeout=60,
                      headers={"apikey": stack.service_role_key or ""}) as http:

        @settings(max_examples=400, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.integers(0, len(REST_ROUTES) - 1), HOSTILE_INPUT, st.data())
        def check(route: int, value: Hostile, data: st.DataObject) -> None:
            place = data.draw(st.sampled_from(places(route, value)))
            method, url, content, headers = hostile_rest_request(route, place, value, (canary, echo))
            try:
                status: int | str = http.request(method, url, content=content, headers=headers).status_code
            except httpx.HTTPError as exc:  # a dropped connection is a failure too
                status = f"{type(exc).__name__}: {exc}"
            tally.record(value.kind, f"{method} /{REST_ROUTES[route][1]} {place}", status)

        check()
        assert http.get(f"/{canary}", params={"id": "eq.1", "select": "name"}).json() == [{"name": "row 1"}]
    assert tally.failures == []
    assert tally.total >= 400 and set(tally.sent) == set(CLASSES), tally.sent
    assert fingerprint(db_url, canary_only=True) == before  # a hostile POST may add row 1000
    assert files_under(stack_dir.parent.parent, stack_dir) == files_before
    print(f"hostile /rest/v1 requests: {tally.total} {tally.sent} statuses {tally.statuses}")

"""The PostgREST query grammar (pure): what parses to what, and which parameter a bad one names."""

from __future__ import annotations

import pytest

from kit.stack.rest.grammar import (
    Column,
    Embed,
    Field,
    Filter,
    Logic,
    OrderTerm,
    ParseError,
    Star,
    parse_request,
)
from kit.stack.errors_format import aeson_json
from kit.stack.rest.negotiation import byte_range, content_range, negotiate, preferences
from kit.stack.rest.problems import RestProblem, status_for_sqlstate


def test_select_items() -> None:
    request = parse_request([("select", ('id,who:name,meta->a->>b,n::text,"odd, name",*,'
                                        "author:users!fk_author!inner(name,id)"))])
    assert request.select == (
        Column(Field("id")), Column(Field("name"), "who"),
        Column(Field("meta", (("->", "a"), ("->>", "b")))), Column(Field("n"), cast="text"),
        Column(Field("odd, name")), Star(),
        Embed("users", "author", "fk_author", True, (Column(Field("name")), Column(Field("id")))))
    assert request.select[2].field.label == "b"  # type: ignore[union-attr]


def test_filters_logic_order_paging() -> None:
    request = parse_request([
        ("age", "not.gte.18"), ("name", "in.(a,\"b,c\",d)"), ("tags", "cs.{x,y}"),
        ("bio", "fts(english).fat & cat"), ("name", "like(any).{a*,b*}"), ("deleted", "is.NULL"),
        ("or", "(a.eq.1,and(b.gt.2,c.not.is.null),d.eq.\"x,y\")"), ("order", "a.desc.nullslast,b"),
        ("limit", "10"), ("offset", "5"), ("apikey", "ignored")])
    assert request.where == (
        Filter(Field("age"), "gte", "18", negated=True),
        Filter(Field("name"), "in", ("a", "b,c", "d")),
        Filter(Field("tags"), "cs", "{x,y}"),
        Filter(Field("bio"), "fts", "fat & cat", config="english"),
        Filter(Field("name"), "like", "{a%,b%}", quantifier="any"),
        Filter(Field("deleted"), "is", "null"),
        Logic("or", (Filter(Field("a"), "eq", "1"),
                     Logic("and", (Filter(Field("b"), "gt", "2"), Filter(Field("c"), "is", "null", True))),
                     Filter(Field("d"), "eq", "x,y"))))
    assert request.order == (OrderTerm(Field("a"), True, False), OrderTerm(Field("b")))
    assert (request.limit, request.offset) == (10, 5)


def test_embedded_options_and_rpc_arguments() -> None:
    request = parse_request([("select", "*,posts(title)"), ("posts.title", "like.a*"),
                             ("posts.order", "id.desc"), ("posts.limit", "2"), ("x", "5")],
                            argument_names=frozenset({"x"}))
    options = request.options_for("posts")
    assert (options.where, options.order, options.limit) == (
        (Filter(Field("title"), "like", "a%"),), (OrderTerm(Field("id"), True),), 2)
    assert request.arguments == (("x", "5"),)


@pytest.mark.parametrize(("pair", "parameter", "message"), [
    (("id", "eqq.1"), "id", "failed to parse filter (id=eqq.1)"),
    (("id", "eq"), "id", "failed to parse filter (id=eq)"),
    (("id", "in.1,2"), "id", "failed to parse filter (id=in.1,2)"),
    (("id", "is.maybe"), "id", "failed to parse filter (id=is.maybe)"),
    (("order", "id.sideways"), "order", "failed to parse order (id.sideways)"),
    (("limit", "-1"), "limit", "failed to parse limit parameter (-1)"),
    (("offset", "1e3"), "offset", "failed to parse offset parameter (1e3)"),
    (("or", "(a.eq.1"), "or", "failed to parse logic tree ((a.eq.1)"),
    (("or", "(a.eq.(1)))"), "or", "failed to parse logic tree ((a.eq.(1))))"),
    (("or", "a.eq.1"), "or", "failed to parse logic tree (a.eq.1)"),
    (("select", "a,,b"), "select", "failed to parse select parameter (a,,b)"),
    (("select", "n::text;drop"), "select", "failed to parse select parameter (n::text;drop)"),
    (("select", "count()"), "select", "failed to parse select parameter (count())"),
    (("select", "x:a(b:c(d))"), "select", "failed to parse select parameter (b:c(d))"),
    (("posts.title", "eq.1"), "posts.*", "'posts' is not an embedded resource in this request"),
    (("name", "eq.a\x00b"), "name", "the parameter 'name' contains a NUL character"),
])
def test_bad_parameters_are_named(pair: tuple[str, str], parameter: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_request([pair])
    assert (info.value.parameter, info.value.message) == (parameter, message)
    assert info.value.details


def test_deep_logic_nesting_is_refused_not_recursed() -> None:
    deep = "(" + "and(" * 40 + "a.eq.1" + ")" * 40 + ")"
    with pytest.raises(ParseError) as info:
        parse_request([("or", deep)])
    assert "more than 16 nested and/or groups" in str(info.value.details)


F = Field


@pytest.mark.parametrize(("key", "text", "expected"), [
    ("or", "(id.in.(1,4),tags.cs.{is:open,priority:high})",
     Logic("or", (Filter(F("id"), "in", ("1", "4")), Filter(F("tags"), "cs", "{is:open,priority:high}")))),
    ("and", '(name.in.("a,b",c),n.not.in.(),r.ov."[1,5)")',
     Logic("and", (Filter(F("name"), "in", ("a,b", "c")), Filter(F("n"), "in", (), True),
                   Filter(F("r"), "ov", "[1,5)")))),
    ("not.or", "( a.eq.1, b.cd.{x,\"y,z\"} ,not.and(c.eq(any).{1,2},d.is.TRUE))",
     Logic("or", (Filter(F("a"), "eq", "1"), Filter(F("b"), "cd", '{x,"y,z"}'),
                  Logic("and", (Filter(F("c"), "eq", "{1,2}", quantifier="any"),
                                Filter(F("d"), "is", "true")), True)), True)),
    ("or", '("odd.col".eq.1,data->>k.eq."a\\"b",t.fts(english).fat cat,e.eq.(1)',
     Logic("or", (Filter(F("odd.col"), "eq", "1"), Filter(F("data", (("->>", "k"),)), "eq", 'a"b'),
                  Filter(F("t"), "fts", "fat cat", config="english"), Filter(F("e"), "eq", "(1")))),
    ("or", '(a.like.*x*,b.eq."q"r,c.eq.{},d.isdistinct."")',
     Logic("or", (Filter(F("a"), "like", "%x%"), Filter(F("b"), "eq", '"q"r'), Filter(F("c"), "eq", "{}"),
                  Filter(F("d"), "isdistinct", "")))),
    ("posts.not.and", '(r.adj."[3,4]",id.in.(")",","))',
     Logic("and", (Filter(F("r"), "adj", "[3,4]"), Filter(F("id"), "in", (")", ","))), True)),
])
def test_logic_trees_parse_values_by_kind(key: str, text: str, expected: Logic) -> None:
    if key.startswith("posts."):
        request = parse_request([("select", "*,posts(*)"), (key, text)])
        assert request.options_for("posts").where == (expected,)
    else:
        assert parse_request([(key, text)]).where == (expected,)


@pytest.mark.parametrize(("text", "detail"), [
    ("(r.ov.[1,5))", 'quote it, e.g. "[1,5)"'),
    ("(r.ov.(1,5])", 'quote it, e.g. "[1,5)"'),
    ("(a.cs.{{1,2},{3,4}})", 'must be quoted, e.g. "{{1,2},{3,4}}"'),
    ("(a.cs.{1,2}x)", "expected ',' or ')' after a condition, found 'x'"),
    ('(a.eq."open)', "no closing '\"'"),
    ("(a.in.(1,2)", "expected ',' or ')' after a condition, found the end"),
    ("(a.in.1,2)", "expected '(' opening the in.(...) list"),
    ("(a.eq.1,)", "is not <column>.<operator>.<value>"),
    ("(a.eq.1) x", "unexpected 'x' after the closing ')'"),
    ("(a.eq.1,b.in.(1,(2)))", "unexpected ')' after the closing ')'"),
    ("(xor(a.eq.1))", "is not <column>.<operator>.<value>"),
    ("(a.is.maybe)", "in the condition on 'a': is. takes one of"),
    ("(a.in.(1).eq.2)", "after a condition, found '.'"),
])
def test_bad_logic_trees_say_where_and_why(text: str, detail: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_request([("or", text)])
    assert info.value.message == f"failed to parse logic tree ({text})"
    assert detail in str(info.value.details)


def test_headers() -> None:
    assert negotiate("application/vnd.pgrst.object+json;nulls=stripped").kind == "object"
    assert negotiate("application/vnd.pgrst.object+json;nulls=stripped").strip_nulls
    assert negotiate("text/csv, application/json").kind == "csv"
    with pytest.raises(RestProblem) as info:
        negotiate("image/png")
    assert (info.value.status, info.value.code) == (406, "PGRST107")
    prefs = preferences(["return=representation, count=planned", "resolution=ignore-duplicates,missing=default"])
    assert (prefs.returning, prefs.count, prefs.resolution, prefs.missing_default) == (
        "representation", "planned", "ignore-duplicates", True)
    assert (byte_range("0-9"), byte_range("5-"), byte_range("bytes=1-2")) == ((0, 10), (5, None), None)
    assert (content_range(0, 3, None), content_range(5, 0, 7)) == ("0-2/*", "*/7")



@pytest.mark.parametrize(("accept", "media_type"), [
    ("application/vnd.pgrst.plan", 'application/vnd.pgrst.plan+text; for="application/json"; charset=utf-8'),
    ('Application/Vnd.Pgrst.Plan+JSON ; For="text/csv" ; Options=wal|analyze|bogus',
     'application/vnd.pgrst.plan+json; for="text/csv"; options=analyze|wal; charset=utf-8'),
    ("image/png, application/vnd.pgrst.plan+text;options=",
     'application/vnd.pgrst.plan+text; for="application/json"; charset=utf-8'),
])
def test_plan_media_types_only_when_enabled(accept: str, media_type: str) -> None:
    plan = negotiate(accept, plan_enabled=True).plan
    assert plan is not None and plan.media_type == media_type
    with pytest.raises(RestProblem) as info:
        negotiate(accept)
    assert (info.value.status, info.value.code) == (406, "PGRST107")
    assert negotiate(accept + ", application/json").kind == "json"


def test_error_bodies_are_encoded_as_aeson_does() -> None:
    body = aeson_json({"message": "caf\u00e9 \"q\" \\b\b\f\n\t\x01\x7f\ud800", "code": "P0001",
                       "hint": None, "details": [1.5, True]})
    assert body == ('{"code":"P0001","details":[1.5,true],"hint":null,'
                    '"message":"caf\u00e9 \\"q\\" \\\\b\\u0008\\u000c\\n\\t\\u0001\x7f\ufffd"}').encode()


@pytest.mark.parametrize(("code", "authenticated", "status"), [
    ("42501", False, 401), ("42501", True, 403), ("23505", False, 409), ("23503", False, 409),
    ("22P02", False, 400), ("P0001", False, 400), ("42883", False, 404), ("42P01", False, 404),
    ("25006", False, 405), ("08006", False, 503), ("PT418", False, 418), ("XX000", False, 500),
    ("42703", False, 400),
])
def test_sqlstate_to_http_status(code: str, authenticated: bool, status: int) -> None:
    assert status_for_sqlstate(code, authenticated=authenticated) == status

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
    (("or", "(a.eq.(1)"), "or", "unbalanced parentheses in or=a.eq.(1"),
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
    assert info.value.details == "more than 16 nested and/or groups"


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


@pytest.mark.parametrize(("code", "authenticated", "status"), [
    ("42501", False, 401), ("42501", True, 403), ("23505", False, 409), ("23503", False, 409),
    ("22P02", False, 400), ("P0001", False, 400), ("42883", False, 404), ("42P01", False, 404),
    ("25006", False, 405), ("08006", False, 503), ("PT418", False, 418), ("XX000", False, 500),
    ("42703", False, 400),
])
def test_sqlstate_to_http_status(code: str, authenticated: bool, status: int) -> None:
    assert status_for_sqlstate(code, authenticated=authenticated) == status

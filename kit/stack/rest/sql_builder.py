"""SQL for /rest/v1, built from the parsed request (pure: AST + schema in, SQL + params out).

Identifiers are quoted with ``psycopg.sql.Identifier``; every value is a bound parameter.
PostgreSQL builds the JSON, as in PostgREST:

    SELECT coalesce(json_agg(_kit_t), '[]')::text, count(*), <total or NULL>
    FROM (SELECT ... FROM "public"."todos" WHERE ... ORDER BY ... LIMIT ...) _kit_t
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from kit.stack.rest.grammar import (
    COMPARISONS,
    FULL_TEXT,
    IS_VALUES,
    Column,
    Condition,
    Embed,
    EmbedOptions,
    Field,
    Filter,
    OrderTerm,
    Request,
    Star,
)
from kit.stack.rest.schema_cache import ForeignKey, Function, Table

_INDEX = re.compile(r"^-?\d{1,9}$")
SOURCE = "pgrst_source"


@dataclass
class Statement:
    """One SQL statement and its named parameters."""

    query: sql.SQL | sql.Composed
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> sql.Composable:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)


@dataclass(frozen=True)
class ResolvedEmbed:
    embed: Embed
    to_many: bool
    foreign_key: ForeignKey
    target: Table


def ident(*names: str) -> sql.Identifier:
    # '%' must be doubled: psycopg reads the composed text for %(name)s placeholders
    return sql.Identifier(*(name.replace("%", "%%") for name in names))


def raw(text: str) -> sql.SQL:
    """SQL text from the catalog (type names), never from a request."""
    return sql.SQL(text.replace("%", "%%"))


def table_ref(table: Table) -> sql.Identifier:
    return ident(table.schema, table.name)


def field_sql(qualifier: sql.Composable, item: Field, st: Statement) -> sql.Composable:
    expr: sql.Composable = sql.SQL("{}.{}").format(qualifier, ident(item.name))
    for arrow, key in item.path:
        key_sql = sql.Literal(int(key)) if _INDEX.match(key) else sql.SQL("{}::text").format(st.bind(key))
        expr = sql.SQL("{}{}{}").format(expr, sql.SQL(arrow), key_sql)
    return expr


def select_list(qualifier: sql.Composable, items: tuple[Any, ...], st: Statement,
                embeds: dict[str, sql.Composable]) -> sql.Composable:
    parts: list[sql.Composable] = []
    for item in items:
        if isinstance(item, Star):
            parts.append(sql.SQL("{}.*").format(qualifier))
        elif isinstance(item, Column):
            expr = field_sql(qualifier, item.field, st)
            if item.cast:
                expr = sql.SQL("CAST({} AS {})").format(expr, sql.SQL(item.cast))
            parts.append(sql.SQL("{} AS {}").format(expr, ident(item.alias or item.field.label)))
        elif isinstance(item, Embed):
            parts.append(sql.SQL("{} AS {}").format(embeds[item.label], ident(item.label)))
    return sql.SQL(", ").join(parts)


def condition_sql(qualifier: sql.Composable, cond: Condition, st: Statement) -> sql.Composable:
    if not isinstance(cond, Filter):
        joiner = sql.SQL(" OR " if cond.operator == "or" else " AND ")
        group = sql.SQL("({})").format(joiner.join(condition_sql(qualifier, c, st)
                                                   for c in cond.conditions))
        return sql.SQL("NOT {}").format(group) if cond.negated else group
    lhs = field_sql(qualifier, cond.field, st)
    op, value = cond.operator, cond.value
    expr: sql.Composable
    if op == "is":
        expr = sql.SQL("{} IS {}").format(lhs, sql.SQL(IS_VALUES[str(value)]))
    elif op == "isdistinct":
        expr = sql.SQL("{} IS DISTINCT FROM {}").format(lhs, st.bind(value))
    elif op == "in":
        values = [st.bind(v) for v in value]
        expr = (sql.SQL("{} IN ({})").format(lhs, sql.SQL(", ").join(values)) if values
                else sql.SQL("FALSE"))
    elif op in FULL_TEXT:
        function = sql.SQL(FULL_TEXT[op])
        query = (sql.SQL("{}({}::regconfig, {})").format(function, st.bind(cond.config), st.bind(value))
                 if cond.config else sql.SQL("{}({})").format(function, st.bind(value)))
        expr = sql.SQL("{} @@ {}").format(lhs, query)
    else:
        operator = sql.SQL(COMPARISONS[op])
        if cond.quantifier:
            expr = sql.SQL("{} {} {}({})").format(lhs, operator, sql.SQL(cond.quantifier.upper()),
                                                  st.bind(value))
        else:
            expr = sql.SQL("{} {} {}").format(lhs, operator, st.bind(value))
    return sql.SQL("NOT ({})").format(expr) if cond.negated else expr


def where_sql(qualifier: sql.Composable, conditions: tuple[Condition, ...], st: Statement,
              extra: Sequence[sql.Composable] = ()) -> sql.Composable:
    parts = [condition_sql(qualifier, c, st) for c in conditions] + list(extra)
    return sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(parts)) if parts else sql.SQL("")


def order_sql(qualifier: sql.Composable, order: tuple[OrderTerm, ...], st: Statement) -> sql.Composable:
    if not order:
        return sql.SQL("")
    terms = []
    for term in order:
        nulls = "" if term.nulls_first is None else (" NULLS FIRST" if term.nulls_first else " NULLS LAST")
        terms.append(sql.SQL("{} {}{}").format(field_sql(qualifier, term.field, st),
                                              sql.SQL("DESC" if term.descending else "ASC"), sql.SQL(nulls)))
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(terms))


def paging_sql(limit: int | None, offset: int | None, st: Statement) -> sql.Composable:
    text: sql.Composable = sql.SQL("")
    if limit is not None:
        text = sql.SQL("{} LIMIT {}").format(text, st.bind(limit))
    if offset:
        text = sql.SQL("{} OFFSET {}").format(text, st.bind(offset))
    return text


def embed_sql(base: sql.Composable, resolved: ResolvedEmbed, options: EmbedOptions,
              st: Statement) -> sql.Composable:
    """A scalar subquery: the related row as an object (to-one) or the related rows as an array."""
    fk, target = resolved.foreign_key, resolved.target
    alias = ident(f"{target.name}_1")
    if resolved.to_many:
        pairs = zip(fk.columns, fk.target_columns)  # child column = base column
    else:
        pairs = zip(fk.target_columns, fk.columns)  # target column = base column
    join = [sql.SQL("{}.{} = {}.{}").format(alias, ident(mine), base, ident(theirs))
            for mine, theirs in pairs]
    inner = sql.SQL("SELECT {} FROM {} AS {}{}{}{}").format(
        select_list(alias, resolved.embed.items, st, {}), table_ref(target), alias,
        where_sql(alias, options.where, st, join), order_sql(alias, options.order, st),
        paging_sql(1 if not resolved.to_many else options.limit, options.offset, st))
    if resolved.to_many:
        return sql.SQL("(SELECT coalesce(json_agg(_kit_e), '[]') FROM ({}) _kit_e)").format(inner)
    return sql.SQL("(SELECT row_to_json(_kit_e) FROM ({}) _kit_e)").format(inner)


def _embeds(qualifier: sql.Composable, request: Request, resolved: list[ResolvedEmbed],
            st: Statement) -> tuple[dict[str, sql.Composable], list[sql.Composable]]:
    exprs: dict[str, sql.Composable] = {}
    inner_conditions: list[sql.Composable] = []
    for item in resolved:
        label = item.embed.label
        exprs[label] = embed_sql(qualifier, item, request.options_for(label), st)
        if item.embed.inner:
            again = embed_sql(qualifier, item, request.options_for(label), st)
            inner_conditions.append(sql.SQL("json_array_length({}) > 0").format(again)
                                    if item.to_many else sql.SQL("{} IS NOT NULL").format(again))
    return exprs, inner_conditions


def _envelope(inner: sql.Composable, total: sql.Composable, strip_nulls: bool) -> sql.Composed:
    row = sql.SQL("json_strip_nulls(row_to_json(_kit_t))" if strip_nulls else "_kit_t")
    return sql.SQL("SELECT coalesce(json_agg({}), '[]')::text, count(*), {} FROM ({}) _kit_t").format(
        row, total, inner)


#: ``Prefer: count=estimated`` counts exactly up to this many rows and asks the planner above
#: it, as PostgREST does with its ``db-max-rows`` (1000 on a new Supabase project).
ESTIMATED_EXACT_UP_TO = 1000


def read_statement(table: Table, request: Request, resolved: list[ResolvedEmbed], *,
                   count: str | bool | None, strip_nulls: bool = False) -> Statement:
    """GET/HEAD on a table or view: one row (body json text, rows in page, total or NULL).

    ``count``: "exact" (or True) counts every matching row; "estimated" counts at most
    ``ESTIMATED_EXACT_UP_TO + 1`` (the caller asks the planner when the count passes it);
    "planned" or None leave the total NULL (see ``planned_count_statement``).
    """
    st = Statement(sql.SQL(""))
    source = table_ref(table)
    embeds, inner = _embeds(source, request, resolved, st)
    conditions = where_sql(source, request.where, st, inner)
    inner_sql = sql.SQL("SELECT {} FROM {}{}{}{}").format(
        select_list(source, request.select, st, embeds), source, conditions,
        order_sql(source, request.order, st), paging_sql(request.limit, request.offset, st))
    total: sql.Composable = sql.SQL("NULL::bigint")
    if count in (True, "exact", "estimated"):
        matching = where_sql(source, request.where, st, _embeds(source, request, resolved, st)[1])
        if count == "estimated":
            total = sql.SQL("(SELECT count(*) FROM (SELECT 1 FROM {}{} LIMIT {}) _kit_c)").format(
                source, matching, sql.Literal(ESTIMATED_EXACT_UP_TO + 1))
        else:
            total = sql.SQL("(SELECT count(*) FROM {}{})").format(source, matching)
    st.query = _envelope(inner_sql, total, strip_nulls)
    return st


def planned_count_statement(table: Table, request: Request, resolved: list[ResolvedEmbed]) -> Statement:
    """``EXPLAIN (FORMAT JSON)`` of the rows a read matches: the planner's row estimate
    (``[0]["Plan"]["Plan Rows"]`` of its one JSON value) is ``Prefer: count=planned``'s total."""
    st = Statement(sql.SQL(""))
    source = table_ref(table)
    matching = where_sql(source, request.where, st, _embeds(source, request, resolved, st)[1])
    st.query = sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {}{}").format(source, matching)
    return st


def returning_statement(mutation: Statement, table: Table, request: Request,
                        resolved: list[ResolvedEmbed], *, strip_nulls: bool = False) -> Statement:
    """Wrap INSERT/UPDATE/DELETE so it answers the selected representation of the changed rows."""
    source = ident(SOURCE)
    embeds, _ = _embeds(source, request, resolved, mutation)
    inner = sql.SQL("SELECT {} FROM {}").format(select_list(source, request.select, mutation, embeds),
                                                source)
    mutation.query = sql.SQL("WITH {} AS ({} RETURNING {}.*) {}").format(
        source, mutation.query, table_ref(table), _envelope(inner, sql.SQL("NULL::bigint"), strip_nulls))
    return mutation


def insert_statement(table: Table, body_json: str, columns: list[str],
                     conflict: tuple[str, ...] | None = None, merge: bool = True) -> Statement:
    """``INSERT ... SELECT ... FROM json_populate_recordset(NULL::t, body)`` (+ ON CONFLICT)."""
    st = Statement(sql.SQL(""))
    target = table_ref(table)
    if not columns:
        st.query = sql.SQL("INSERT INTO {} DEFAULT VALUES").format(target)
        return st
    names = sql.SQL(", ").join(ident(c) for c in columns)
    query = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM json_populate_recordset(NULL::{}, {}::json) _kit_body")
    st.query = query.format(target, names, names, target, st.bind(body_json))
    if conflict is not None:
        keys = sql.SQL(", ").join(ident(c) for c in conflict)
        if merge:
            sets = sql.SQL(", ").join(sql.SQL("{} = EXCLUDED.{}").format(ident(c), ident(c))
                                      for c in columns)
            st.query = sql.SQL("{} ON CONFLICT ({}) DO UPDATE SET {}").format(st.query, keys, sets)
        else:
            st.query = sql.SQL("{} ON CONFLICT ({}) DO NOTHING").format(st.query, keys)
    return st


def update_statement(table: Table, body_json: str, columns: list[str],
                     where: tuple[Condition, ...]) -> Statement:
    st = Statement(sql.SQL(""))
    target = table_ref(table)
    sets = sql.SQL(", ").join(sql.SQL("{} = _kit_body.{}").format(ident(c), ident(c)) for c in columns)
    st.query = sql.SQL("UPDATE {} SET {} FROM (SELECT * FROM json_populate_record(NULL::{}, {}::json)) "
                       "_kit_body{}").format(target, sets, target, st.bind(body_json),
                                             where_sql(target, where, st))
    return st


def delete_statement(table: Table, where: tuple[Condition, ...]) -> Statement:
    st = Statement(sql.SQL(""))
    target = table_ref(table)
    st.query = sql.SQL("DELETE FROM {}{}").format(target, where_sql(target, where, st))
    return st


def rpc_statement(function: Function, arguments: dict[str, Any] | None, body_json: str | None,
                  request: Request, *, count: bool, strip_nulls: bool = False) -> Statement:
    """Call a function with named arguments taken from a JSON object (json_to_record types them)."""
    st = Statement(sql.SQL(""))
    name = ident(function.schema, function.name)
    sources: list[sql.Composable] = []
    if arguments is None:  # one unnamed json/jsonb parameter: the whole body
        call = sql.SQL("{}({}::{})").format(name, st.bind(body_json or "{}"), raw(function.arguments[0][1]))
    elif arguments:
        types = dict(function.arguments)
        columns = sql.SQL(", ").join(sql.SQL("{} {}").format(ident(a), raw(types[a])) for a in arguments)
        sources.append(sql.SQL("json_to_record({}::json) AS _kit_args({})").format(
            st.bind(body_json), columns))
        call = sql.SQL("{}({})").format(name, sql.SQL(", ").join(
            sql.SQL("{} => _kit_args.{}").format(ident(a), ident(a)) for a in arguments))
    else:
        call = sql.SQL("{}()").format(name)
    prefix = sql.SQL("").join(sql.SQL("{}, ").format(s) for s in sources)
    if function.shape == "void":
        st.query = sql.SQL("SELECT '', 0, NULL::bigint FROM (SELECT {} FROM {}) _kit_v").format(
            call, sources[0]) if sources else sql.SQL("SELECT '', 0, NULL::bigint FROM {} _kit_v").format(call)
        return st
    if function.shape == "scalar" and not function.returns_set:
        from_sql = sql.SQL(" FROM {}").format(sources[0]) if sources else sql.SQL("")
        st.query = sql.SQL("SELECT to_json({})::text, 1, NULL::bigint{}").format(call, from_sql)
        return st
    if function.shape == "scalar":
        st.query = sql.SQL("SELECT coalesce(json_agg(_kit_v), '[]')::text, count(*), NULL::bigint "
                           "FROM {}{} AS _kit_v").format(prefix, call)
        return st
    source = ident(SOURCE)
    conditions = where_sql(source, request.where, st)
    inner = sql.SQL("SELECT {} FROM {}{} AS {}{}{}{}").format(
        select_list(source, request.select, st, {}), prefix, call, source, conditions,
        order_sql(source, request.order, st), paging_sql(request.limit, request.offset, st))
    total: sql.Composable = sql.SQL("NULL::bigint")
    if count:
        total = sql.SQL("(SELECT count(*) FROM {}{} AS {}{})").format(prefix, call, source,
                                                                     where_sql(source, request.where, st))
    st.query = _envelope(inner, total, strip_nulls)
    return st

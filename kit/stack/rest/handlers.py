"""The /rest/v1 endpoints: tables and views (GET HEAD POST PATCH DELETE) and /rpc/<function>.

Thin: parse (grammar) → look up (schema_cache) → build SQL (sql_builder) → run as the caller
(execution) → answer in PostgREST's shape. Every failure is a ``RestProblem``.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import time
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from starlette.requests import Request as HttpRequest
from starlette.responses import Response

from kit.stack.apikey import auth_of
from kit.stack.context import StackContext
from kit.stack.rest import negotiation as nego
from kit.stack.rest import plan
from kit.stack.rest import sql_builder as build
from kit.stack.rest.answers import answer, json_body, shaped_query
from kit.stack.rest.execution import RestConnections, Result
from kit.stack.rest.functions import call_function
from kit.stack.rest.grammar import Column, Field, ParseError, Request
from kit.stack.rest.problems import (
    RestProblem,
    column_not_found,
    not_single_object,
    parse_problem,
    table_not_found,
)
from kit.stack.rest.relations import resolve_embeds
from kit.stack.rest.schema_cache import Schema, SchemaCache, Table
from kit.stack.rest.statement_cache import ReadCache, Shape

log = logging.getLogger("kit.stack.rest")


class RestService:
    """One per stack: the schema cache plus the request handlers."""

    def __init__(self, ctx: StackContext) -> None:
        self.ctx = ctx
        self.cache = SchemaCache(ctx.db, ctx.schemas)
        assert ctx.db.requests is not None, "the database is bootstrapped before routes are built"
        self.connections = RestConnections(ctx.db.requests)
        self.reads = ReadCache()
        self.tx_end = nego.TxEnd.parse(os.environ.get("KIT_DB_TX_END"))  # PostgREST's db-tx-end

    async def handle(self, request: HttpRequest, path: str) -> Response:
        """Answer one request; ``path`` is relative to /rest/v1 (``todos``, ``rpc/fn``, ``""``)."""
        started = time.monotonic()
        head = request.method == "HEAD"
        try:
            if path.startswith("rpc/"):
                return await self.rpc(request, path[4:], started)
            if path in ("", "/"):
                return await self.root(request)
            return await self.table(request, path, started)
        except ParseError as exc:
            return parse_problem(exc.parameter, exc.message, exc.details).response(with_body=not head)
        except RestProblem as problem:
            return problem.response(with_body=not head)
        except Exception as exc:  # a bug in the stack, not bad input: say so in PostgREST's shape
            log.exception("unexpected error answering %s %s", request.method, request.url.path)
            return RestProblem(500, "PGRST000", f"kit stack internal error: {type(exc).__name__}",
                               str(exc)[:500]).response(with_body=not head)

    async def root(self, request: HttpRequest) -> Response:
        schema = await self.cache.current()
        name = nego.profile(request.headers.get("accept-profile"), schema.exposed)
        paths: dict[str, dict[str, Any]] = {"/": {}}
        paths.update({f"/{t.name}": {} for t in schema.tables.values() if t.schema == name})
        paths.update({f"/rpc/{f}": {} for (s, f) in schema.functions if s == name})
        body = {"swagger": "2.0", "info": {"title": "kit embedded stack (PostgREST subset)",
                                           "version": "12"}, "paths": paths}
        return Response(json.dumps(body), 200, media_type="application/openapi+json; charset=utf-8")

    # -- tables and views -------------------------------------------------------------------

    async def table(self, request: HttpRequest, name: str, started: float) -> Response:
        method = request.method
        reading = method in ("GET", "HEAD")
        schema = await self.cache.current()
        negotiated = nego.negotiate(request.headers.get("accept"), plan_enabled=schema.plan_enabled)
        prefs = nego.preferences(request.headers.getlist("prefer"), self.tx_end)
        shaped = shaped_query(request.scope["query_string"])
        query = shaped.request
        schema_name = nego.profile(request.headers.get("accept-profile" if reading else "content-profile"),
                                   schema.exposed)
        schema, table = await self._table(schema, schema_name, name, started)
        schema, resolved = await self._embeds(schema, table, query, started)
        if reading and negotiated.plan:
            statement = build.read_statement(table, query, resolved, count=prefs.count)
            [result] = await self.connections.run_as(auth_of(request),
                                                     [plan.explain(statement, negotiated.plan)])
            return plan.plan_response(result.rows, negotiated.plan, request.method == "HEAD")
        if negotiated.plan:
            raise RestProblem(406, "PGRST107", "None of these media types are available: "
                              f"{request.headers.get('accept')}", None,
                              "the kit stack explains reads (GET/HEAD) only")
        if reading:
            return await self._read(request, schema, table, shaped, resolved, negotiated, prefs)
        if method == "POST":
            return await self._insert(request, table, query, resolved, negotiated, prefs, started)
        if method == "PATCH":
            return await self._update(request, table, query, resolved, negotiated, prefs, started)
        if method == "DELETE":
            return await self._delete(request, table, query, resolved, negotiated, prefs)
        raise RestProblem(405, "PGRST117", f"Unsupported HTTP method: {method}", None,
                          "use GET, HEAD, POST, PATCH or DELETE (PUT is not supported by the kit stack)")

    async def _table(self, schema: Schema, schema_name: str, name: str,
                     started: float) -> tuple[Schema, Table]:
        table = schema.table(schema_name, name)
        if table is None:
            schema = await self.cache.refresh_after(started)
            table = schema.table(schema_name, name)
        if table is None:
            names = [t.name for t in schema.tables.values() if t.schema == schema_name]
            close = difflib.get_close_matches(name, names, n=1)
            raise table_not_found(schema_name, name, close[0] if close else None)
        return schema, table

    async def _embeds(self, schema: Schema, table: Table, query: Request,
                      started: float) -> tuple[Schema, list[build.ResolvedEmbed]]:
        if not query.embeds:
            return schema, []
        try:
            return schema, resolve_embeds(schema, table, query.embeds)
        except RestProblem:
            schema = await self.cache.refresh_after(started)
            return schema, resolve_embeds(schema, table, query.embeds)

    async def _read(self, request: HttpRequest, schema: Schema, table: Table, shaped: Shape,
                    resolved: list[build.ResolvedEmbed], negotiated: nego.Negotiated,
                    prefs: nego.Preferences) -> Response:
        query = shaped.request
        ranged = nego.byte_range(request.headers.get("range"))
        if ranged and query.limit is None and query.offset is None:
            shaped = Shape(_with_paging(query, ranged))
            query = shaped.request
        key = (schema.generation, schema.loaded_at, table.key, prefs.count, negotiated.strip_nulls)
        statement = self.reads.statement(key, shaped, lambda shape: build.read_statement(
            table, shape, resolved, count=prefs.count, strip_nulls=negotiated.strip_nulls))
        [result] = await self.connections.run_as(auth_of(request), [statement],
                                                 rollback=prefs.rollback)
        body, rows, total = result.rows[0]
        if prefs.count == "planned" or (prefs.count == "estimated"
                                        and total > build.ESTIMATED_EXACT_UP_TO):
            total = await self._planned_count(request, key, shaped, table, resolved)
        offset = query.offset or 0
        status = 206 if total is not None and rows < total and (rows or offset) else 200
        headers = nego.applied_header({"Content-Range": nego.content_range(offset, rows, total)},
                                      prefs.applied())
        return answer(body, rows, status, headers, negotiated, request.method == "HEAD")

    async def _planned_count(self, request: HttpRequest, key: tuple[Any, ...], shaped: Shape,
                             table: Table, resolved: list[build.ResolvedEmbed]) -> int:
        """The planner's estimate of the rows the read matches (PostgREST's count=planned)."""
        statement = self.reads.statement(key + ("planned",), shaped, lambda shape:
                                         build.planned_count_statement(table, shape, resolved))
        [result] = await self.connections.run_as(auth_of(request), [statement])
        plan = result.rows[0][0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return int(plan[0]["Plan"]["Plan Rows"])

    # -- writes -----------------------------------------------------------------------------

    async def _insert(self, request: HttpRequest, table: Table, query: Request,
                      resolved: list[build.ResolvedEmbed], negotiated: nego.Negotiated,
                      prefs: nego.Preferences, started: float) -> Response:
        payload = await json_body(request)
        rows = payload if isinstance(payload, list) else [payload]
        if not all(isinstance(row, dict) for row in rows):
            raise RestProblem(400, "PGRST102", "All object keys must match",
                              "the body must be a JSON object or an array of objects")
        columns = list(query.columns) if query.columns is not None else _keys_in_order(rows)
        table = await self._check_columns(table, columns, started)
        conflict = None
        if prefs.resolution:
            conflict = query.on_conflict or table.primary_key
            if not conflict:
                raise RestProblem(400, "PGRST100", f"cannot upsert into '{table.name}': it has no primary "
                                  "key", None, "pass on_conflict=<unique columns>")
        groups = _row_groups(rows, columns, prefs.missing_default)
        mutations = [build.insert_statement(table, json.dumps(group_rows), group_columns, conflict,
                                            prefs.resolution != "ignore-duplicates")
                     for group_columns, group_rows in groups]
        return await self._write(request, table, query, resolved, negotiated, prefs, mutations,
                                 status=201, default_return="minimal",
                                 applied=prefs.applied(mutation="insert", resolution_possible=bool(
                                     query.on_conflict or table.primary_key)))

    async def _update(self, request: HttpRequest, table: Table, query: Request,
                      resolved: list[build.ResolvedEmbed], negotiated: nego.Negotiated,
                      prefs: nego.Preferences, started: float) -> Response:
        _no_paging(query, "PATCH")
        payload = await json_body(request)
        if not isinstance(payload, dict):
            raise RestProblem(400, "PGRST102", "Empty or invalid json",
                              "PATCH takes one JSON object of the columns to change")
        columns = list(payload)
        table = await self._check_columns(table, columns, started)
        mutations = [build.update_statement(table, json.dumps(payload), columns, query.where)] if columns else []
        return await self._write(request, table, query, resolved, negotiated, prefs, mutations,
                                 status=200, default_return="minimal",
                                 applied=prefs.applied(mutation="update"))

    async def _delete(self, request: HttpRequest, table: Table, query: Request,
                      resolved: list[build.ResolvedEmbed], negotiated: nego.Negotiated,
                      prefs: nego.Preferences) -> Response:
        _no_paging(query, "DELETE")
        mutations = [build.delete_statement(table, query.where)]
        return await self._write(request, table, query, resolved, negotiated, prefs, mutations,
                                 status=200, default_return="minimal",
                                 applied=prefs.applied(mutation="delete"))

    async def _write(self, request: HttpRequest, table: Table, query: Request,
                     resolved: list[build.ResolvedEmbed], negotiated: nego.Negotiated,
                     prefs: nego.Preferences, mutations: list[build.Statement], *, status: int,
                     default_return: str, applied: str) -> Response:
        returning = prefs.returning or default_return
        posting = request.method == "POST"
        if returning == "representation":
            statements = [build.returning_statement(m, table, query, resolved,
                                                    strip_nulls=negotiated.strip_nulls) for m in mutations]
        elif returning == "headers-only" and posting and table.primary_key:
            keys = Request(select=tuple(_pk_columns(table)))
            statements = [build.returning_statement(m, table, keys, []) for m in mutations]
        else:
            statements = mutations
        check = None
        if returning == "representation" and negotiated.kind == "object":
            def check(results: list[Result]) -> RestProblem | None:
                changed = sum(r.rows[0][1] for r in results)
                return None if changed == 1 else not_single_object(changed)
        results = await self.connections.run_as(auth_of(request), statements, check=check,
                                                rollback=prefs.rollback) if statements else []
        if statements is mutations:
            changed = sum(max(r.rowcount, 0) for r in results)
            body = None
        else:
            changed = sum(r.rows[0][1] for r in results)
            body = _concat_arrays([r.rows[0][0] for r in results])
        total = str(changed) if prefs.count else "*"
        headers = nego.applied_header({"Content-Range": f"*/{total}"}, applied)  # contentRangeH 1 0
        if returning == "headers-only" and posting and body and body != "[]":
            headers["Location"] = _location(table, json.loads(body)[0])
        if returning != "representation":
            return Response(None, 201 if posting else 204, headers)
        return answer(body or "[]", changed, status if posting else 200, headers, negotiated, False)

    async def _check_columns(self, table: Table, columns: list[str], started: float) -> Table:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            schema = await self.cache.refresh_after(started)
            table = schema.table(table.schema, table.name) or table
            missing = [c for c in columns if c not in table.columns]
            if missing:
                raise column_not_found(table.name, missing[0])
        return table

    # -- functions --------------------------------------------------------------------------

    async def rpc(self, request: HttpRequest, name: str, started: float) -> Response:
        return await call_function(self, request, name, started)


def _keys_in_order(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _row_groups(rows: list[dict[str, Any]], columns: list[str],
                missing_default: bool) -> list[tuple[list[str], list[dict[str, Any]]]]:
    """Rows to insert, grouped so that with missing=default absent keys get column defaults."""
    if not rows:
        return []
    if not columns:
        return [([], [row]) for row in rows]
    if not missing_default:
        return [(columns, rows)]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(c for c in columns if c in row), []).append(row)
    return [(list(cols), group) for cols, group in groups.items()]


def _no_paging(query: Request, method: str) -> None:
    if query.limit is not None or query.offset is not None or query.order:
        raise RestProblem(400, "PGRST100", f"limit, offset and order are not supported on {method} "
                          "by the kit stack", None, "filter the rows to change with eq/in instead")


def _with_paging(query: Request, ranged: tuple[int, int | None]) -> Request:
    return replace(query, offset=ranged[0], limit=ranged[1])


def _pk_columns(table: Table) -> list[Any]:
    return [Column(Field(name)) for name in table.primary_key]


def _location(table: Table, row: dict[str, Any]) -> str:
    return f"/{quote(table.name)}?" + "&".join(f"{quote(k)}=eq.{quote(str(v))}" for k, v in row.items())


def _concat_arrays(bodies: list[str]) -> str:
    if len(bodies) == 1:
        return bodies[0]
    inner = [b[1:-1] for b in bodies if b not in ("[]", "")]
    return "[" + ",".join(inner) + "]"

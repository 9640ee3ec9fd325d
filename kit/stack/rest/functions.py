"""``/rest/v1/rpc/<function>``: POST with JSON arguments, GET/HEAD with query arguments.

Shapes, as PostgREST 12 answers them: void → 204; a scalar → the JSON value; a set of
scalars → an array; rows (a table type, ``RETURNS TABLE``, OUT parameters) → an array
that takes select/filters/order/limit, or one object for a function returning one row.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request as HttpRequest
from starlette.responses import Response

from kit.stack.apikey import auth_of
from kit.stack.rest import negotiation as nego
from kit.stack.rest import sql_builder as build
from kit.stack.rest.answers import JSON, answer, json_body, parsed_query
from kit.stack.rest.problems import RestProblem

if TYPE_CHECKING:
    from kit.stack.rest.handlers import RestService
    from kit.stack.rest.schema_cache import Function, Schema


async def call_function(service: RestService, request: HttpRequest, name: str,
                        started: float) -> Response:
    method = request.method
    if method not in ("GET", "HEAD", "POST"):
        raise RestProblem(405, "PGRST117", f"Unsupported HTTP method: {method}", None,
                          "call functions with POST, GET or HEAD")
    reading = method in ("GET", "HEAD")
    negotiated = nego.negotiate(request.headers.get("accept"))
    prefs = nego.preferences(request.headers.getlist("prefer"), service.tx_end)
    schema = await service.cache.current()
    schema_name = nego.profile(request.headers.get("accept-profile" if reading else "content-profile"),
                               schema.exposed)
    names = _argument_names(schema, schema_name, name)
    query = parsed_query(request.scope["query_string"], names)
    if reading:
        arguments: dict[str, Any] = dict(query.arguments)
        body_json = json.dumps(arguments)
    else:
        payload = await json_body(request)
        if not isinstance(payload, dict):
            raise RestProblem(400, "PGRST102", "Empty or invalid json",
                              "the body of an RPC call is one JSON object of named arguments")
        arguments, body_json = payload, json.dumps(payload)
    function = schema.function(schema_name, name, set(arguments))
    if function is None:
        schema = await service.cache.refresh_after(started)
        if _argument_names(schema, schema_name, name) != names:
            query = parsed_query(request.scope["query_string"], _argument_names(schema, schema_name, name))
            if reading:
                arguments = dict(query.arguments)
                body_json = json.dumps(arguments)
        function = schema.function(schema_name, name, set(arguments))
    if function is None:
        raise _not_found(schema_name, name, sorted(arguments))
    _check_shape(function, query)
    single_json = len(function.arguments) == 1 and not function.arguments[0][0]
    statement = build.rpc_statement(function, None if single_json else arguments, body_json, query,
                                    count=bool(prefs.count), strip_nulls=negotiated.strip_nulls)
    [result] = await service.connections.run_as(auth_of(request), [statement],
                                                read_only=reading or not function.volatile,
                                                rollback=prefs.rollback)
    body, rows, total = result.rows[0]
    head = method == "HEAD"
    applied = nego.applied_header({}, prefs.applied())
    if function.shape == "void":
        return Response(None, 204, applied)
    if function.shape == "scalar" and not function.returns_set:  # a NULL is the JSON null (PostgREST #1795)
        return Response(None if head else (body if body is not None else "null"), 200, applied, media_type=JSON)
    headers = nego.applied_header(
        {"Content-Range": nego.content_range(query.offset or 0, rows, total)}, prefs.applied())
    if function.shape == "rows" and not function.returns_set and negotiated.kind == "json":
        body = body[1:-1] if rows == 1 else "null"
        return Response(None if head else body, 200, headers, media_type=JSON)
    return answer(body, rows, 200, headers, negotiated, head)


def _argument_names(schema: Schema, schema_name: str, name: str) -> frozenset[str]:
    return frozenset(arg for f in schema.functions.get((schema_name, name), [])
                     for arg, _ in f.arguments if arg)


def _check_shape(function: Function, query: Any) -> None:
    if function.shape == "unsupported":
        raise RestProblem(400, "PGRST100", f"function {function.schema}.{function.name} returns an "
                          "untyped record", None, "declare RETURNS TABLE(...) or OUT parameters")
    shaping = query.where or query.order or query.limit is not None or query.offset is not None
    if function.shape != "rows" and shaping:
        raise RestProblem(400, "PGRST100", f"filters, order and limit apply only to functions "
                          f"returning rows; {function.schema}.{function.name} returns {function.returns}")
    if query.embeds:
        raise RestProblem(400, "PGRST100", "embedding resources in a function result is not supported "
                          "by the kit stack")


def _not_found(schema_name: str, name: str, arguments: list[str]) -> RestProblem:
    listed = ", ".join(arguments)
    with_args = f"with parameters {listed}" if arguments else "without parameters"
    return RestProblem(404, "PGRST202", f"Could not find the function {schema_name}.{name}"
                       f"({listed}) in the schema cache",
                       f"Searched for the function {schema_name}.{name} {with_args} or with a single "
                       "unnamed json/jsonb parameter, but no matches were found in the schema cache.",
                       None)

"""How /rest/v1 turns query strings in and JSON text out (pure, apart from reading a body).

    answer('[{"id":1}]', 1, 200, {}, Negotiated("object"), head=False)  → Response '{"id":1}'
"""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request as HttpRequest
from starlette.responses import Response

from kit.stack.request_input import BadInput, parse_json
from kit.stack.rest.grammar import Request, parse_request
from kit.stack.rest.negotiation import Negotiated
from kit.stack.rest.problems import RestProblem, not_single_object
from kit.stack.rest.statement_cache import Shape

JSON = "application/json; charset=utf-8"


@lru_cache(maxsize=2048)
def parsed_query(query_string: bytes, argument_names: frozenset[str] = frozenset()) -> Request:
    """The parsed query string (cached: clients repeat the same queries)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return parse_request(pairs, argument_names=argument_names)


@lru_cache(maxsize=2048)
def shaped_query(query_string: bytes) -> Shape:
    """The parsed query string with its shape and values (cached, for the statement cache)."""
    return Shape(parsed_query(query_string))


def answer(body: str, rows: int, status: int, headers: dict[str, str], negotiated: Negotiated,
            head: bool) -> Response:
    """The response body in the negotiated shape: array, one object (or 406), or CSV."""
    media = JSON
    if negotiated.kind == "object":
        if rows != 1:
            raise not_single_object(rows)
        body = body[1:-1] if body.startswith("[") else body
    elif negotiated.kind == "csv":
        body, media = csv_text(body), "text/csv; charset=utf-8"
    response = Response(None if head else body, status, headers, media_type=media)
    if head:
        response.headers["content-length"] = str(len(body.encode()))
    return response


def csv_text(body: str) -> str:
    data = json.loads(body)
    rows = data if isinstance(data, list) else [data]
    if not rows or not isinstance(rows[0], dict):
        return ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(rows[0]))
    for row in rows:
        writer.writerow(["" if v is None else json.dumps(v) if isinstance(v, (dict, list))
                         else str(v).lower() if isinstance(v, bool) else v for v in row.values()])
    return out.getvalue().rstrip("\n")


async def json_body(request: HttpRequest) -> Any:
    raw = await request.body()
    try:
        return parse_json(raw) if raw.strip() else {}
    except BadInput as exc:
        raise RestProblem(400, "PGRST102", "Empty or invalid json", str(exc)) from None

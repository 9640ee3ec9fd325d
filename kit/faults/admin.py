"""The stack's fault admin routes, mounted under ``/_kit`` (service_role key required).

    GET    /_kit/faults            {"rules": [...], "mark_header": true, "in_flight": 0, "counts": {...}}
    POST   /_kit/faults            body: a rule or a list of rules → 201 {"ids": [...]}
    DELETE /_kit/faults            remove every rule → {"removed": [...]}
    DELETE /_kit/faults/{id}       remove one rule → {"removed": [id]} (404 when unknown)
    GET    /_kit/faults/log        {"injections": [...]} oldest first
    PUT    /_kit/faults/settings   {"mark_header": false} → the settings

The key goes in the ``apikey`` header (or ``Authorization: Bearer``), never in the URL.
Rules live in the stack process's memory only: a restarted stack has none.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kit.faults.engine import FaultSet
from kit.faults.errors import FaultRuleError
from kit.stack.errors_format import gateway_error

Endpoint = Callable[[Request], Awaitable[Response]]


def _authorised(request: Request, service_role_key: str) -> bool:
    given = request.headers.get("apikey") or ""
    bearer = request.headers.get("authorization") or ""
    if bearer[:7].lower() == "bearer ":
        given = bearer[7:].strip() or given
    return hmac.compare_digest(given.encode(), service_role_key.encode())


def _guarded(endpoint: Endpoint, service_role_key: str) -> Endpoint:
    async def guarded(request: Request) -> Response:
        if not _authorised(request, service_role_key):
            return gateway_error("The fault admin route needs the service_role key",
                                 "Send the stack's service_role key in the `apikey` header "
                                 "(kit.stack.faults does this for you).")
        return await endpoint(request)
    return guarded


def admin_routes(faults: FaultSet, service_role_key: str) -> list[Route]:
    """Routes to mount under ``/_kit``; they act on ``faults``, the middleware's rule set."""

    def overview() -> dict[str, Any]:
        return {"rules": [r.to_dict() for r in faults.rules], "mark_header": faults.mark_header,
                "in_flight": faults.in_flight, "counts": faults.counts()}

    async def rules(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(overview())
        if request.method == "DELETE":
            return JSONResponse({"removed": faults.clear()})
        try:
            body = json.loads(await request.body() or b"null")
            ids = faults.add(body if body is not None else [])
        except ValueError:
            return gateway_error("The body is not JSON", "POST a rule or a list of rules as JSON.", 400)
        except FaultRuleError as exc:
            return gateway_error(exc.problem, exc.fix, 400)
        return JSONResponse({"ids": ids}, status_code=201)

    async def one_rule(request: Request) -> Response:
        rule_id = request.path_params["rule_id"]
        removed = faults.remove(rule_id)
        if not removed:
            known = ", ".join(r.id for r in faults.rules) or "(none)"
            return gateway_error(f"No fault rule {rule_id!r}", f"Set rules: {known}.", 404)
        return JSONResponse({"removed": removed})

    async def injections(request: Request) -> Response:
        return JSONResponse({"injections": faults.log()})

    async def settings(request: Request) -> Response:
        if request.method == "PUT":
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = None
            if not isinstance(body, dict) or set(body) - {"mark_header"} or not all(
                    isinstance(v, bool) for v in body.values()):
                return gateway_error("Settings must be {\"mark_header\": true|false}",
                                     "The only setting is mark_header.", 400)
            faults.mark_header = body.get("mark_header", faults.mark_header)
        return JSONResponse({"mark_header": faults.mark_header})

    key = service_role_key
    return [Route("/faults", _guarded(rules, key), methods=["GET", "POST", "DELETE"]),
            Route("/faults/log", _guarded(injections, key), methods=["GET"]),
            Route("/faults/settings", _guarded(settings, key), methods=["GET", "PUT"]),
            Route("/faults/{rule_id}", _guarded(one_rule, key), methods=["DELETE"])]

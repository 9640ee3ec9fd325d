"""``Accept: application/vnd.pgrst.plan[+text|+json]``: PostgreSQL's real plan of a read.

Off by default, as on hosted Supabase: the plan media types are then not producible, so the
request is 406 PGRST107 like any other unavailable media type. Switched on as Supabase
documents (https://supabase.com/docs/guides/database/debugging-performance)::

    alter role authenticator set pgrst.db_plan_enabled to 'true';
    notify pgrst, 'reload config';

The kit reads the setting from ``pg_db_role_setting`` of ``authenticator`` and of the login
role the stack really uses (``kit.stack.roles``) whenever its schema cache reloads, which any
``NOTIFY pgrst`` triggers. Shapes from PostgREST v13 (MediaType.hs ``decodeMediaType`` /
``toMime``, SqlFragment.hs ``explainF``): media parameters ``for="<media>"`` (default
``application/json``) and ``options=analyze|verbose|settings|buffers|wal``; the answer's
Content-Type is ``application/vnd.pgrst.plan+<fmt>; for="<media>"[; options=...];
charset=utf-8`` and its body the ``EXPLAIN (FORMAT TEXT|JSON, ...)`` output of the very SQL
the kit runs for the read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from starlette.responses import Response

from kit.stack.rest.sql_builder import Statement
from kit.stack.roles import KIT_LOGIN_ROLE, LOGIN_ROLE

OPTIONS = ("analyze", "verbose", "settings", "buffers", "wal")
FORMATS = {"application/vnd.pgrst.plan": "text", "application/vnd.pgrst.plan+text": "text",
           "application/vnd.pgrst.plan+json": "json"}
SETTING_SQL = """
SELECT coalesce(bool_or(lower(split_part(c, '=', 2)) IN ('true', 'on', 'yes', '1')), false)
FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) c
WHERE r.rolname = ANY(%(roles)s) AND split_part(c, '=', 1) = 'pgrst.db_plan_enabled'
  AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
"""
SETTING_ROLES = [LOGIN_ROLE, KIT_LOGIN_ROLE]


@dataclass(frozen=True)
class PlanRequest:
    format: str  # "text" | "json"
    for_media: str = "application/json"
    options: tuple[str, ...] = ()

    @property
    def media_type(self) -> str:
        options = f"; options={'|'.join(self.options)}" if self.options else ""
        return (f'application/vnd.pgrst.plan+{self.format}; for="{self.for_media}"{options}; '
                "charset=utf-8")


def plan_request(media: str, params: list[str]) -> PlanRequest | None:
    """``("application/vnd.pgrst.plan+json", ['for="text/csv"', "options=analyze"])`` →
    ``PlanRequest("json", "text/csv", ("analyze",))``; None when ``media`` is not a plan type."""
    fmt = FORMATS.get(media.lower())
    if fmt is None:
        return None
    found = {}
    for param in params:
        key, _, value = param.partition("=")
        found[key.strip().lower()] = value.strip().strip('"')
    asked = found.get("options", "").split("|")
    return PlanRequest(fmt, found.get("for") or "application/json",
                       tuple(o for o in OPTIONS if o in asked))


def explain(statement: Statement, plan: PlanRequest) -> Statement:
    """``EXPLAIN (FORMAT <fmt>, <OPTIONS>) <statement>`` with the same parameters."""
    words = [f"FORMAT {plan.format.upper()}", *(o.upper() for o in plan.options)]
    prefix = sql.SQL("EXPLAIN ({}) ").format(sql.SQL(", ").join(sql.SQL(w) for w in words))
    return Statement(sql.Composed([prefix, statement.query]), statement.params)


def plan_response(rows: list[tuple[Any, ...]], plan: PlanRequest, head: bool) -> Response:
    """Text: the plan's lines joined by newlines; JSON: the plan document (PostgreSQL's array)."""
    if plan.format == "json":
        body = json.dumps(rows[0][0], indent=2)
    else:
        body = "\n".join(str(row[0]) for row in rows)
    response = Response(None if head else body, 200)
    response.headers["content-type"] = plan.media_type
    return response

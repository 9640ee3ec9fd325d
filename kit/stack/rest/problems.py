"""REST errors as PostgREST answers them: HTTP status from the SQLSTATE, body from the diagnostics.

    problem_from_database(exc, authenticated=False)   # psycopg error → RestProblem(409, "23505", ...)
    problem.response()                                # → {"code","message","details","hint"} + Proxy-Status
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from starlette.responses import Response

from kit.stack.errors_format import postgrest_error

_EXACT = {"23503": 409, "23505": 409, "25006": 405, "53400": 500, "57P01": 503,
          "P0001": 400, "42883": 404, "42P01": 404, "42P17": 500}
_PREFIX = {"08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500,
           "38": 500, "39": 500, "3B": 500, "40": 500, "53": 503, "54": 500, "55": 500,
           "57": 500, "58": 500, "F0": 500, "HV": 500, "P0": 500, "XX": 500}


@dataclass
class RestProblem(Exception):
    """An answer in PostgREST's error format: ``RestProblem(404, "PGRST205", "Could not find ...")``."""

    status: int
    code: str
    message: str
    details: Any = None
    hint: Any = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def response(self, *, with_body: bool = True) -> Response:
        response = postgrest_error(self.status, self.code, self.message, self.details, self.hint)
        if not with_body:  # HEAD: same status and headers, no body
            response.body = b""
            response.headers["content-length"] = "0"
        return response


def status_for_sqlstate(code: str, *, authenticated: bool) -> int:
    """PostgREST's mapping from SQLSTATE to HTTP status (42501: 401 for anon, 403 otherwise)."""
    if code == "42501":
        return 403 if authenticated else 401
    if code in _EXACT:
        return _EXACT[code]
    if code.startswith("PT") and code[2:].isdigit() and 100 <= int(code[2:]) <= 599:
        return int(code[2:])
    return _PREFIX.get(code[:2], 400)


def problem_from_database(exc: psycopg.Error, *, authenticated: bool) -> RestProblem:
    """Translate a psycopg error: database errors keep their SQLSTATE and diagnostics."""
    code = exc.sqlstate
    if code is None:
        if isinstance(exc, psycopg.OperationalError):
            return RestProblem(503, "PGRST001", "Database client error. Retrying the connection.",
                               str(exc).strip() or None)
        # raised by psycopg before reaching the server: a value it cannot send (e.g. a NUL byte)
        return RestProblem(400, "22021", str(exc).strip() or type(exc).__name__)
    diag = exc.diag
    message = diag.message_primary or str(exc).strip()
    status = status_for_sqlstate(code, authenticated=authenticated)
    if code == "22023" and message.startswith("role") and message.endswith("does not exist"):
        status = 401  # the JWT's role does not exist (PostgREST v13 pgErrorStatus, issue #3601)
    return RestProblem(status, code, message, diag.message_detail, diag.message_hint)


def parse_problem(parameter: str, message: str, details: str | None) -> RestProblem:
    return RestProblem(400, "PGRST100", message, details,
                       f"check the query parameter {parameter!r}")


def table_not_found(schema: str, name: str, suggestion: str | None) -> RestProblem:
    return RestProblem(404, "PGRST205", f"Could not find the table '{schema}.{name}' in the schema cache",
                       None, f"Perhaps you meant the table '{schema}.{suggestion}'" if suggestion else None)


def column_not_found(table: str, column: str) -> RestProblem:
    return RestProblem(400, "PGRST204", f"Could not find the '{column}' column of '{table}' in the "
                                        "schema cache")


def schema_not_exposed(schema: str, exposed: tuple[str, ...]) -> RestProblem:
    return RestProblem(406, "PGRST106", "Invalid schema: " + schema,
                       None, "Only the following schemas are exposed: " + ", ".join(exposed))


def not_single_object(rows: int) -> RestProblem:
    return RestProblem(406, "PGRST116", "JSON object requested, multiple (or no) rows returned",
                       f"The result contains {rows} rows")

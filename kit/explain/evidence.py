"""The facts an explanation rests on, read from a Case: service answers, the exception chain,
the exchanges (status, content type), the installed versions.

    answers = service_answers(case)      # [ServiceAnswer("postgrest", "PGRST205", 404, ...)]
    fact_lines(case)                     # ["APIError: {...}", "GET /rest/v1/note → 404 application/json", ...]
    same_exchanges(exchanges)            # one SameExchange per request made identically in several modes

A ``ServiceAnswer`` is an error code a service put in a structured field: postgrest-py's
``APIError.code`` (a ``PGRSTxxx`` or a SQLSTATE), storage3's ``StorageApiError.code`` (the body's
``error``), supabase_auth's ``AuthApiError.code`` (GoTrue's ``error_code``), or the same fields
in the JSON body of a captured 4xx/5xx exchange. An ``APIError`` whose code is a bare HTTP status
(postgrest's answer to an HTML page) is not a service answer: no service wrote it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kit.explain.case import Case

if TYPE_CHECKING:
    from kit.capture import Exchange

__all__ = ["SameExchange", "ServiceAnswer", "exception_lines", "exchange_line", "fact_lines",
           "failing_exchange", "role_of", "same_exchanges", "service_answers"]

_SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
_PGRST = re.compile(r"^PGRST[0-9X]\d\d$")


@dataclass(frozen=True)
class ServiceAnswer:
    """One error code a service answered with, where it was read, and the exchange that carried it."""

    service: str  # postgrest | sqlstate | storage | auth
    code: str
    status: int | None
    message: str
    details: str | None
    hint: str | None
    source: str  # "APIError.code", "the body of exchange #3", ...
    exchange: Exchange | None = None

    def line(self) -> str:
        status = f"HTTP {self.status} · " if self.status is not None else ""
        extra = "".join(f" · {k}: {v}" for k, v in (("details", self.details), ("hint", self.hint))
                        if v)
        return f"{status}{self.service} code {self.code!r} ({self.source}): {self.message}{extra}"[:400]


def _status(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rest_service(code: str) -> str | None:
    if _PGRST.match(code):
        return "postgrest"
    return "sqlstate" if _SQLSTATE.match(code) else None  # a bare HTTP status has 3 digits


def _from_exception(exc: BaseException) -> ServiceAnswer | None:
    name = type(exc).__name__
    module = type(exc).__module__
    if name == "APIError" and module.startswith("postgrest"):
        code = str(getattr(exc, "code", "") or "")
        service = _rest_service(code)
        if service is None:
            return None
        return ServiceAnswer(service, code, None, str(getattr(exc, "message", "") or ""),
                             _text(getattr(exc, "details", None)), _text(getattr(exc, "hint", None)),
                             "APIError.code")
    if name == "StorageApiError":
        code = str(getattr(exc, "code", "") or "")
        message = str(getattr(exc, "message", "") or "")
        if not code or message.startswith("Unable to parse error message"):
            return None
        return ServiceAnswer("storage", code, _status(getattr(exc, "status", None)), message,
                             None, None, "StorageApiError.code")
    if module.startswith(("supabase_auth", "gotrue")) and getattr(exc, "code", None):
        return ServiceAnswer("auth", str(getattr(exc, "code", "")), _status(getattr(exc, "status", None)),
                             str(getattr(exc, "message", exc)), None, None, f"{name}.code")
    return None


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _from_exchange(ex: Exchange) -> ServiceAnswer | None:
    if ex.status is None or ex.status < 400 or "json" not in ex.content_type:
        return None
    try:
        body = json.loads(ex.response_body[:20_000])
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    where = f"the body of exchange #{ex.seq}"
    if ex.service == "auth" or "error_code" in body or "msg" in body:
        code = body.get("error_code") or (body.get("code") if isinstance(body.get("code"), str) else None)
        if code:
            return ServiceAnswer("auth", str(code), ex.status, str(body.get("msg") or body.get("message")
                                                                   or ""), None, None, where, ex)
        return None
    if "statusCode" in body and "error" in body:
        return ServiceAnswer("storage", str(body["error"]), _status(body["statusCode"]),
                             str(body.get("message", "")), None, None, where, ex)
    code = str(body.get("code") or "")
    service = _rest_service(code)
    if service is None:
        return None
    return ServiceAnswer(service, code, ex.status, str(body.get("message", "")),
                         _text(body.get("details")), _text(body.get("hint")), where, ex)


_LOGGED_API_ERROR = re.compile(r"APIError: (\{.*\})")
_LOGGED_STORAGE_ERROR = re.compile(r"StorageApiError: \{'statusCode': '?(\d+)'?, 'error': '?([^,']+)'?, "
                                   r"'message': '?([^}']*)")


def _from_text(text: str) -> ServiceAnswer | None:
    """A service error as postgrest-py and storage3 print it in a log line or traceback."""
    match = _LOGGED_API_ERROR.search(text)
    if match:
        fields = {key: single or double for key, single, double in re.findall(
            r"""'(code|message|details|hint)': (?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|None)""",
            match.group(1))}
        service = _rest_service(fields.get("code", ""))
        if service:
            return ServiceAnswer(service, fields["code"], None, fields.get("message", ""),
                                 fields.get("details") or None, fields.get("hint") or None,
                                 "the logged APIError")
    match = _LOGGED_STORAGE_ERROR.search(text)
    if match:
        return ServiceAnswer("storage", match.group(2), int(match.group(1)), match.group(3), None,
                             None, "the logged StorageApiError")
    return None


def service_answers(case: Case) -> list[ServiceAnswer]:
    """Every service error code in the case, exceptions first, one per (service, code)."""
    from_exchanges = [a for a in (_from_exchange(ex) for ex in case.exchanges) if a is not None]
    found: list[ServiceAnswer] = []
    if not case.exceptions:
        found += [a for a in (_from_text(t) for t in case.texts) if a is not None]
    for exc in case.exceptions:
        answer = _from_exception(exc)
        if answer is None:
            continue
        carrier = next((a.exchange for a in from_exchanges if a.code == answer.code), None)
        status = answer.status if answer.status is not None else (carrier.status if carrier else None)
        found.append(ServiceAnswer(answer.service, answer.code, status, answer.message,
                                   answer.details, answer.hint, answer.source, carrier))
    found += from_exchanges
    unique: dict[tuple[str, str], ServiceAnswer] = {}
    for answer in found:
        unique.setdefault((answer.service, answer.code), answer)
    return list(unique.values())


def exchange_line(ex: Exchange) -> str:
    """``GET /rest/v1/note → 404 application/json (12 ms)`` or the transport error."""
    outcome = (f"{ex.status} {ex.content_type or 'no content type'}" if ex.status is not None
               else f"no response: {ex.masked_error or 'transport error'}")
    mode = f" [{ex.mode}]" if ex.mode else ""
    return f"exchange #{ex.seq}{mode}: {ex.method} {ex.path} → {outcome} ({ex.duration_ms:.0f} ms)"


@dataclass(frozen=True)
class SameExchange:
    """Exchanges that asked and got the same: method, URL, status, content type, size, error,
    fault rule and retry attempt; typically one request that several diff modes made.
    Displayed as one line naming its modes."""

    exchanges: tuple[Exchange, ...]

    @property
    def first(self) -> Exchange:
        return self.exchanges[0]

    def line(self) -> str:
        """``sync, async: GET /rest/v1/x → 404 application/json 177 B in 16.4–29.4 ms``; a mode
        that made it more than once says how often (``sync (3×): ...``), as does a capture
        without modes (``3×: ...``); one exchange without a mode is its request line alone."""
        fastest, slowest = (f"{f(ex.duration_ms for ex in self.exchanges):.1f}" for f in (min, max))
        timing = f"{fastest} ms" if fastest == slowest else f"{fastest}–{slowest} ms"
        counts = Counter(ex.mode or "" for ex in self.exchanges)
        made_by = ", ".join(f"{mode} ({n}×)" if n > 1 else mode for mode, n in counts.items() if mode)
        if counts[""] > 1:
            made_by = ", ".join(part for part in (made_by, f"{counts['']}×") if part)
        request = f"{self.first.request_line()} in {timing}{self.first.tags(mode=False)}"
        return f"{made_by}: {request}" if made_by else request


def same_exchanges(exchanges: Iterable[Exchange]) -> list[SameExchange]:
    """``exchanges`` grouped by what was asked and answered, in order of first appearance;
    those that differ in anything but their mode and timing stay apart."""
    groups: dict[tuple[Any, ...], list[Exchange]] = {}
    for ex in exchanges:
        key = (ex.method, ex.url, ex.status, ex.content_type, ex.response_size, ex.error,
               ex.fault_rule, ex.retry_attempt)
        groups.setdefault(key, []).append(ex)
    return [SameExchange(tuple(group)) for group in groups.values()]


def _exchange_fact(same: SameExchange) -> str:
    if len(same.exchanges) == 1:
        return exchange_line(same.first)
    numbers = ", ".join(f"#{ex.seq}" for ex in same.exchanges[:5])
    return f"exchanges {numbers}{' …' if len(same.exchanges) > 5 else ''}: {same.line()}"


def exception_lines(case: Case) -> list[str]:
    """One line per distinct exception (type and message): several diff modes that raised the
    same error give one line naming them, ``in sync, async: APIError: {...}``."""
    modes: dict[str, list[str]] = {}
    for exc in case.exceptions:
        seen = modes.setdefault(f"{type(exc).__name__}: {str(exc)[:300]}", [])
        origin = case.origins.get(id(exc))
        if origin and origin not in seen:
            seen.append(origin)
    several = len({*case.origins.values()}) > 1
    return [f"in {', '.join(origins)}: {line}" if several and origins else line
            for line, origins in modes.items()]


def fact_lines(case: Case, *, limit: int = 8, shown: list[Exchange] | None = None) -> list[str]:
    """The plain facts of a case: the exception chain, then each request's status and type,
    one line for a request several modes made identically (those in ``shown`` are displayed
    as exchanges already)."""
    lines = exception_lines(case)[:4]
    displayed = {id(ex) for ex in shown or []}
    lines += [_exchange_fact(same) for same in
              same_exchanges(ex for ex in case.exchanges if id(ex) not in displayed)[:4]]
    lines += [f"result: {type(r).__name__}" for r in case.results[:2]]
    return lines[:limit]


def role_of(ex: Exchange) -> str | None:
    """The role claim of the bearer token (or apikey) a request carried; never verified, never shown."""
    token = (ex.request_header("authorization") or "").removeprefix("Bearer ").strip() or \
        ex.request_header("apikey") or ""
    from kit.explain.key_facts import token_claims

    if token.startswith("sb_publishable_"):
        return "anon"
    claims = token_claims(token)
    if claims is None:
        return None
    return str(claims.get("role") or "anon")  # PostgREST runs a JWT without a role as anon


def failing_exchange(answer: ServiceAnswer, case: Case, service: str,
                     statuses: tuple[int, ...] = ()) -> Exchange | None:
    """The exchange that carried ``answer``; else the case's first ``service`` exchange
    ("rest", "storage") answered with one of ``statuses`` (any 4xx/5xx when empty), captured or
    held by the exception's traceback (``Case.sent``)."""
    if answer.exchange is not None:
        return answer.exchange
    return next((ex for ex in [*case.exchanges, *case.sent] if ex.service == service
                 and ex.status is not None
                 and (ex.status in statuses if statuses else ex.status >= 400)), None)

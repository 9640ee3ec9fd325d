"""The request headers PostgREST reads: Accept, Prefer, Range, Accept-/Content-Profile (pure).

    negotiate("application/vnd.pgrst.object+json")  → Negotiated(kind="object", strip_nulls=False)
    preferences(["return=representation,count=exact"]) → Preferences(returning="representation", count="exact")
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit.stack.rest.plan import PlanRequest, plan_request
from kit.stack.rest.problems import RestProblem, schema_not_exposed

_RANGE = re.compile(r"^\s*(?:items=)?(\d{1,15})-(\d{0,15})\s*$")
_MEDIA = {
    "application/json": "json", "application/*": "json", "*/*": "json",
    "application/vnd.pgrst.array+json": "json", "application/vnd.pgrst.array": "json",
    "application/vnd.pgrst.object+json": "object", "application/vnd.pgrst.object": "object",
    "text/csv": "csv", "text/*": "csv",
}


@dataclass(frozen=True)
class Negotiated:
    kind: str = "json"  # "json" | "object" | "csv" | "plan"
    strip_nulls: bool = False
    plan: PlanRequest | None = None


@dataclass(frozen=True)
class Preferences:
    returning: str | None = None  # "representation" | "minimal" | "headers-only"
    count: str | None = None  # "exact" | "planned" | "estimated"
    resolution: str | None = None  # "merge-duplicates" | "ignore-duplicates"
    missing_default: bool = False


def negotiate(accept: str | None, *, plan_enabled: bool = False) -> Negotiated:
    """The first media type of ``Accept`` that /rest/v1 can produce, or HTTP 406 (PGRST107).
    The plan media types count only when ``plan_enabled`` (``kit.stack.rest.plan``)."""
    if not accept:
        return Negotiated()
    for entry in accept.split(","):
        media, *params = (p.strip() for p in entry.split(";"))
        plan = plan_request(media, params)
        if plan is not None and plan_enabled:
            return Negotiated("plan", plan=plan)
        kind = _MEDIA.get(media.lower())
        if kind:
            return Negotiated(kind, any(p.replace(" ", "").lower() == "nulls=stripped" for p in params))
    raise RestProblem(406, "PGRST107", f"None of these media types are available: {accept}",
                      None, "use application/json, application/vnd.pgrst.object+json or text/csv")


def preferences(values: list[str]) -> Preferences:
    """Parse every ``Prefer`` header; unknown preferences are ignored (lenient handling)."""
    found: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            key, _, setting = item.strip().partition("=")
            found[key.strip().lower()] = setting.strip().lower()
    returning = found.get("return")
    return Preferences(
        returning=returning if returning in ("representation", "minimal", "headers-only") else None,
        count=found["count"] if found.get("count") in ("exact", "planned", "estimated") else None,
        resolution=found.get("resolution") if found.get("resolution") in (
            "merge-duplicates", "ignore-duplicates") else None,
        missing_default=found.get("missing") == "default",
    )


def byte_range(header: str | None) -> tuple[int, int | None] | None:
    """``Range: 0-9`` → (offset 0, limit 10); ``5-`` → (5, None); anything else is ignored."""
    match = _RANGE.match(header or "")
    if not match:
        return None
    start, end = int(match.group(1)), match.group(2)
    if end and int(end) < start:
        raise RestProblem(416, "PGRST103", "Requested range not satisfiable",
                          f"the Range {header!r} ends before it starts")
    return start, (int(end) - start + 1) if end else None


def profile(schema_header: str | None, exposed: tuple[str, ...]) -> str:
    """The schema a request targets: ``Accept-Profile`` / ``Content-Profile`` when it names an
    exposed schema, the first exposed one without it; any other is 406 PGRST106 listing them
    (PostgREST v13.0.8 ``UnacceptableSchema``)."""
    if not schema_header:
        return exposed[0]
    name = schema_header.strip()
    if name not in exposed:
        raise schema_not_exposed(name, exposed)
    return name


def content_range(offset: int, rows: int, total: int | None) -> str:
    """``0-9/120``, ``*/0``: the Content-Range PostgREST sends with every read."""
    of = "*" if total is None else str(total)
    return f"{offset}-{offset + rows - 1}/{of}" if rows else f"*/{of}"

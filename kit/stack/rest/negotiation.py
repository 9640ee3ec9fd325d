"""The request headers PostgREST reads: Accept, Prefer, Range, Accept-/Content-Profile (pure).

    negotiate("application/vnd.pgrst.object+json")  → Negotiated(kind="object", strip_nulls=False)
    preferences(["return=representation,count=exact"]) → Preferences(returning="representation", count="exact")
    preferences(["tx=rollback"], TxEnd("commit", True)).transaction  → "rollback"

``Prefer: tx=commit|rollback`` follows PostgREST (``ApiRequest/Preferences.hs``, ``MainTx.hs``):
it is read only when ``db-tx-end`` allows an override (``commit-allow-override`` or
``rollback-allow-override``), the first value given wins, and an applied one is echoed in
``Preference-Applied``. Supabase (hosted and ``supabase start``) leaves ``db-tx-end`` at
PostgREST's default ``commit``, so there the preference is ignored and nothing is echoed. The
kit's stack defaults to ``commit-allow-override`` (``kit.diff`` rolls each mode's writes back
with it); ``KIT_DB_TX_END=commit`` in the stack's environment gives Supabase's exact behaviour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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


TX_END_SETTINGS = ("commit", "commit-allow-override", "rollback", "rollback-allow-override")
KIT_TX_END = "commit-allow-override"


@dataclass(frozen=True)
class TxEnd:
    """PostgREST's ``db-tx-end``: how a request's transaction ends by default, and whether
    ``Prefer: tx=...`` may change it."""

    default: str = "commit"  # "commit" | "rollback"
    allow_override: bool = False

    @classmethod
    def parse(cls, setting: str | None) -> TxEnd:
        """``TxEnd.parse("commit-allow-override")``; an unknown setting raises ValueError."""
        value = (setting or KIT_TX_END).strip().lower()
        if value not in TX_END_SETTINGS:
            raise ValueError(f"db-tx-end {setting!r} is not one of {', '.join(TX_END_SETTINGS)}")
        return cls(value.split("-", 1)[0], value.endswith("-allow-override"))


@dataclass(frozen=True)
class Preferences:
    returning: str | None = None  # "representation" | "minimal" | "headers-only"
    count: str | None = None  # "exact" | "planned" | "estimated"
    resolution: str | None = None  # "merge-duplicates" | "ignore-duplicates"
    missing_default: bool = False
    missing: str | None = None  # "default" | "null", as given
    transaction: str | None = None  # "commit" | "rollback": only when db-tx-end allows it
    rollback: bool = False  # how this request's transaction ends

    def applied(self, *, mutation: str | None = None, resolution_possible: bool = False) -> str:
        """The ``Preference-Applied`` value, in PostgREST's order (Response.hs): resolution
        (inserts with a key), missing (insert, update), return (mutations), count, tx."""
        parts = []
        if mutation == "insert" and resolution_possible and self.resolution:
            parts.append(f"resolution={self.resolution}")
        if mutation in ("insert", "update") and self.missing:
            parts.append(f"missing={self.missing}")
        if mutation and self.returning:
            parts.append(f"return={self.returning}")
        if self.count:
            parts.append(f"count={self.count}")
        if self.transaction:
            parts.append(f"tx={self.transaction}")
        return ", ".join(parts)


@lru_cache(maxsize=256)  # pure, and clients send the same few Accept headers
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


_KNOWN = {"return": ("representation", "minimal", "headers-only"),
          "count": ("exact", "planned", "estimated"),
          "resolution": ("merge-duplicates", "ignore-duplicates"),
          "missing": ("default", "null"), "tx": ("commit", "rollback")}


def preferences(values: list[str], tx_end: TxEnd = TxEnd()) -> Preferences:
    """Parse every ``Prefer`` header; unknown preferences are ignored (lenient handling) and
    the first valid value of each preference wins, as in PostgREST."""
    return _preferences(tuple(values), tx_end)


@lru_cache(maxsize=256)  # pure, and clients send the same few Prefer headers
def _preferences(values: tuple[str, ...], tx_end: TxEnd) -> Preferences:
    found: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            key, _, setting = item.strip().partition("=")
            key, setting = key.strip().lower(), setting.strip().lower()
            if setting in _KNOWN.get(key, ()):
                found.setdefault(key, setting)
    transaction = found.get("tx") if tx_end.allow_override else None
    return Preferences(
        returning=found.get("return"), count=found.get("count"),
        resolution=found.get("resolution"), missing_default=found.get("missing") == "default",
        missing=found.get("missing"), transaction=transaction,
        rollback=(transaction or tx_end.default) == "rollback",
    )


def applied_header(headers: dict[str, str], applied: str) -> dict[str, str]:
    """``headers`` with ``Preference-Applied`` when a preference was applied."""
    return {**headers, "Preference-Applied": applied} if applied else headers


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

"""Which parts of a diff's results the server generated, so two correct writes compare equal.

    masks = Masks.from_exchanges(capture, renames=policy.renames)
    masks.fields       # {'id': 'not sent in the insert into table todos: set by the database', ...}
    fingerprint(value, masks=masks)

A field is generated when a write's answer has it and the request did not send it: a primary
key from a sequence or ``gen_random_uuid()``, a ``now()`` timestamp, any column default or
trigger. Storage answers' ``id``, ``Id`` and timestamps are set by Storage. Objects the kit
uploaded under its own ``kit_<mode>_<n>_`` names are compared under the name the operation
asked for. Nothing is masked in a diff that only reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kit.diff.writes import intent_of

__all__ = ["MASK", "Masks"]

MASK = "<generated>"
STORAGE_GENERATED = ("id", "Id", "created_at", "updated_at", "last_accessed_at", "version")


@dataclass(frozen=True)
class Masks:
    """Generated field names (with the reason) and kit upload names → the names asked for."""

    fields: dict[str, str] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_exchanges(cls, exchanges: Iterable[Any], renames: dict[str, str] | None = None) -> Masks:
        found: dict[str, str] = {}
        for ex in exchanges:
            intent = intent_of(ex.method, ex.url, ex.request_headers)
            if intent is None or ex.status is None or ex.status >= 300:
                continue
            answered = _keys(_json(ex.response_body))
            if intent.service == "storage":
                for name in sorted(answered & set(STORAGE_GENERATED)):
                    found.setdefault(name, f"set by Storage on {intent.action}")
            elif intent.action in ("insert", "upsert"):  # an update answers stored values too
                sent = _keys(_json(ex.request_body))
                for name in sorted(answered - sent):
                    found.setdefault(name, f"not sent in the {intent.action} into {intent.subject}: "
                                           "set by the database (default, sequence, now(), trigger)")
        return cls(found, dict(renames or {}))

    def apply(self, canonical: Any) -> Any:
        """A normalised value with generated fields replaced by ``MASK`` and kit names undone."""
        if isinstance(canonical, dict):
            return {k: MASK if k in self.fields else self.apply(v) for k, v in canonical.items()}
        if isinstance(canonical, list):
            return [self.apply(v) for v in canonical]
        if isinstance(canonical, str):
            for own in sorted(self.renames, key=len, reverse=True):
                canonical = canonical.replace(own, self.renames[own])
        return canonical

    def __bool__(self) -> bool:
        return bool(self.fields or self.renames)

    def text(self) -> str:
        """``masked: id, created_at (not sent ...)``, or "" when nothing is masked."""
        by_reason: dict[str, list[str]] = {}
        for name, why in self.fields.items():
            by_reason.setdefault(why, []).append(name)
        parts = [f"{', '.join(names)} ({why})" for why, names in by_reason.items()]
        if self.renames:
            parts.append(f"{len(self.renames) // 2} kit_ upload names, compared as the names asked for")
        return ("masked: " + "; ".join(parts)) if parts else ""


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _keys(value: Any) -> set[str]:
    rows = value if isinstance(value, list) else [value]
    return {str(k) for row in rows if isinstance(row, dict) for k in row}

"""A user as Supabase Auth answers it (pure: rows in, JSON-ready dict out).

Field names and omissions follow GoTrue's ``models.User`` and ``models.Identity`` JSON tags:
timestamps that are unset are left out (``omitempty``), ``email``/``phone`` are ``""`` when
unset, the identity's own id is ``identity_id`` and its provider id is ``id``.

    user_json(row, identities)   # {"id": ..., "aud": "authenticated", "role": ..., "email": ..., ...}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

Row = dict[str, Any]

_OPTIONAL_TIMES = ("email_confirmed_at", "invited_at", "phone_confirmed_at", "confirmation_sent_at",
                   "confirmed_at", "recovery_sent_at", "email_change_sent_at", "phone_change_sent_at",
                   "reauthentication_sent_at", "last_sign_in_at", "banned_until", "deleted_at")


def iso(value: datetime | str | None) -> str | None:
    """GoTrue's timestamps: RFC 3339 with microseconds and the zone (``2026-11-30T15:49:22.123456Z``);
    a timestamp that came through PostgreSQL's JSON (a string) is normalised the same way."""
    if value is None:
        return None
    text = value if isinstance(value, str) else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def identity_json(row: Row) -> dict[str, Any]:
    body: dict[str, Any] = {"identity_id": str(row["id"]), "id": row["provider_id"],
                            "user_id": str(row["user_id"]), "identity_data": row["identity_data"] or {},
                            "provider": row["provider"]}
    if row.get("last_sign_in_at"):
        body["last_sign_in_at"] = iso(row["last_sign_in_at"])
    body["created_at"] = iso(row["created_at"])
    body["updated_at"] = iso(row["updated_at"])
    if row.get("email"):
        body["email"] = row["email"]
    return body


def user_json(row: Row, identities: list[Row] | None = None) -> dict[str, Any]:
    """The ``User`` object of every /auth/v1 answer (identities included when given)."""
    body: dict[str, Any] = {"id": str(row["id"]), "aud": row.get("aud") or "", "role": row.get("role") or "",
                            "email": row.get("email") or "", "phone": row.get("phone") or ""}
    for name in _OPTIONAL_TIMES:
        if row.get(name) is not None:
            body[name] = iso(row[name])
    if row.get("email_change"):
        body["new_email"] = row["email_change"]
    body["app_metadata"] = row.get("raw_app_meta_data") or {}
    body["user_metadata"] = row.get("raw_user_meta_data") or {}
    body["identities"] = [identity_json(i) for i in identities or []]
    body["created_at"] = iso(row["created_at"])
    body["updated_at"] = iso(row.get("updated_at") or row["created_at"])
    body["is_anonymous"] = bool(row.get("is_anonymous"))
    return body


def is_confirmed(row: Row) -> bool:
    return row.get("email_confirmed_at") is not None


def is_banned(row: Row, now: datetime) -> bool:
    until = row.get("banned_until")
    return until is not None and until > now

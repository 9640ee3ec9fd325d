"""The stack's JWT secret and its anon / service_role keys (HS256, like Supabase).

The secret and keys are created once per data directory and kept in ``keys.json``
(mode 0600) so they survive ``down``/``up``; ``reset`` removes them with the data.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

ISSUER = "kit"
API_ROLES = ("anon", "authenticated", "service_role")
_TEN_YEARS = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class Keys:
    """The stack's signing secret and the two API keys it hands out."""

    jwt_secret: str
    anon_key: str
    service_role_key: str

    def __repr__(self) -> str:  # never show a key in a repr
        return "<Keys anon=*** service_role=***>"

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign claims with the stack's secret: ``keys.sign({"role": "authenticated", "sub": uid})``."""
        body = {"iss": ISSUER, "iat": int(time.time()), **claims}
        body.setdefault("exp", body["iat"] + 3600)
        return jwt.encode(body, self.jwt_secret, algorithm="HS256")

    def user_token(self, sub: str, *, email: str | None = None, expires_in: int = 3600) -> str:
        """A JWT for an authenticated user, as Supabase Auth would issue it."""
        now = int(time.time())
        claims: dict[str, Any] = {"sub": sub, "role": "authenticated", "aud": "authenticated",
                                  "iat": now, "exp": now + expires_in}
        if email:
            claims["email"] = email
        return self.sign(claims)

    def decode(self, token: str) -> dict[str, Any]:
        """Verify a JWT's signature and expiry; raises ``jwt.InvalidTokenError``."""
        return jwt.decode(token, self.jwt_secret, algorithms=["HS256"],
                          options={"verify_aud": False, "require": ["role"]})


def _api_key(secret: str, role: str, issued_at: int) -> str:
    return jwt.encode({"iss": ISSUER, "role": role, "iat": issued_at,
                       "exp": issued_at + _TEN_YEARS}, secret, algorithm="HS256")


def new_keys() -> Keys:
    secret = secrets.token_urlsafe(48)
    now = int(time.time())
    return Keys(secret, _api_key(secret, "anon", now), _api_key(secret, "service_role", now))


def load_or_create(data_dir: Path) -> Keys:
    """The keys of this data directory, created on first use."""
    path = data_dir / "keys.json"
    if path.exists():
        return Keys(**json.loads(path.read_text()))
    keys = new_keys()
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"jwt_secret": keys.jwt_secret, "anon_key": keys.anon_key,
                   "service_role_key": keys.service_role_key}, fh)
    os.replace(tmp, path)
    return keys

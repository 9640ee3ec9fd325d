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

    def verify(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        """The claims of a bearer token, checked as PostgREST v13 does (``PostgREST.Auth``
        ``parseToken``, v13.0.8): 3 parts, signature, then ``exp``/``nbf``/``iat`` with 30 s of
        skew and ``aud``'s type. Raises ``JwtRejected(code, message)`` with PostgREST's code
        (PGRST301 a token that cannot be decoded, PGRST303 a claim that fails) and message.
        """
        if not token:
            raise JwtRejected("PGRST301", "Empty JWT is sent in Authorization header")
        if token.count(".") != 2:
            raise JwtRejected("PGRST301", f"Expected 3 parts in JWT; got {token.count('.') + 1}")
        try:
            claims = jwt.decode(token, self.jwt_secret, algorithms=["HS256"], options={
                "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                "verify_aud": False, "verify_iss": False})
        except jwt.InvalidAlgorithmError:
            raise JwtRejected("PGRST301", "Wrong or unsupported encoding algorithm") from None
        except jwt.InvalidSignatureError:
            raise JwtRejected("PGRST301", "JWT cryptographic operation failed") from None
        except jwt.InvalidTokenError:  # not base64url / not JSON: PyJWT cannot decode it
            raise JwtRejected("PGRST301", "JWT couldn't be decoded") from None
        if not isinstance(claims, dict):
            raise JwtRejected("PGRST303", "Parsing claims failed")
        _check_times(claims, time.time() if now is None else now)
        aud = claims.get("aud")
        if aud is not None and not isinstance(aud, str) and not (
                isinstance(aud, list) and all(isinstance(a, str) for a in aud)):
            raise JwtRejected("PGRST303", "The JWT 'aud' claim must be a string or an array of strings")
        return claims


JWT_SKEW_SECONDS = 30  # PostgREST's allowedSkewSeconds


class JwtRejected(Exception):
    """A bearer token PostgREST would refuse: ``code`` (PGRST301/PGRST303) and its message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _check_times(claims: dict[str, Any], now: float) -> None:
    for name, fails, message in (("exp", lambda v: now > v + JWT_SKEW_SECONDS, "JWT expired"),
                                 ("nbf", lambda v: now < v - JWT_SKEW_SECONDS, "JWT not yet valid"),
                                 ("iat", lambda v: now < v - JWT_SKEW_SECONDS, "JWT issued at future")):
        if name not in claims:
            continue
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise JwtRejected("PGRST303", f"The JWT '{name}' claim must be a number")
        if fails(value):
            raise JwtRejected("PGRST303", message)


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

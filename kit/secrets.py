"""One place that decides what a secret looks like and how it is masked.

Every view and export of the kit (reprs, HTML, data frames, HAR files, reports) passes
its text through this module. Raw bytes may stay in memory for exact comparisons; they
never leave it unmasked.

    >>> mask_text("Authorization: Bearer " + ".".join([header, payload, signature]))
    'Authorization: Bearer [masked-jwt]'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# The rules below are public: kit.stream_masking finds where each can start and applies the
# rule itself, so a body masked chunk by chunk equals the body masked whole.
__all__ = ["HEADER_LINE", "JSON_FIELD", "JWT_BYTES", "JWT_PATTERN", "MASK", "MASKED_JWT", "OPAQUE_KEY",
           "QUERY_FIELD", "SECRET_FIELDS", "SECRET_HEADERS", "is_secret_field", "mask_bytes",
           "mask_headers", "mask_text", "mask_url"]

MASK = "[masked]"
MASKED_JWT = "[masked-jwt]"

# A JWT: base64url header and payload that both start with '{"' (eyJ), and a signature.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
JWT_BYTES = re.compile(JWT_PATTERN.pattern.encode())
# Supabase's newer opaque keys.
OPAQUE_KEY = re.compile(r"\bsb_(?:secret|publishable)_[A-Za-z0-9_-]{8,}")
_OPAQUE_BYTES = re.compile(OPAQUE_KEY.pattern.encode())

SECRET_HEADERS = frozenset({"apikey", "authorization", "proxy-authorization", "cookie",
                            "set-cookie", "x-api-key", "x-supabase-api-key"})
SECRET_FIELDS = ("access_token", "refresh_token", "provider_token", "provider_refresh_token",
                  "password", "token", "apikey", "api_key", "secret", "service_role_key",
                  "anon_key", "jwt_secret", "token_hash", "current_password", "email_otp",
                  "hashed_token", "password_hash", "nonce")
_FIELD_ALT = "|".join(SECRET_FIELDS)
# "access_token": "...", in JSON; access_token=...& in query strings and form bodies.
JSON_FIELD = re.compile(r'("(?:' + _FIELD_ALT + r')"\s*:\s*")((?:[^"\\]|\\.)*)(")', re.IGNORECASE)
# (a "#" too: Supabase Auth puts the session in a redirect's fragment, #access_token=...&refresh_token=...)
QUERY_FIELD = re.compile(r"((?:^|[?&;#\s])(?:" + _FIELD_ALT + r")=)([^&#\s\"'<]*)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@", re.IGNORECASE)
# Words that every secret field / secret header name contains (checked by a test), so a text
# without any of them cannot match JSON_FIELD, QUERY_FIELD or HEADER_LINE.
_FIELD_WORDS = ("token", "password", "key", "secret", "otp", "nonce")
_HEADER_WORDS = ("key", "authorization", "cookie")
HEADER_LINE = re.compile(r"^((?:" + "|".join(SECRET_HEADERS) + r")\s*:\s*)(.+)$", re.IGNORECASE | re.MULTILINE)


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    """Mask JWTs, opaque Supabase keys, token-like fields and any ``known`` secret values.

    >>> mask_text('{"access_token": "abc", "user": 1}')
    '{"access_token": "[masked]", "user": 1}'
    """
    if not text:
        return text
    for secret in known:
        if secret and len(secret) >= 8 and secret in text:
            text = text.replace(secret, MASK)
    # Each pattern runs only where a word it needs is present: a case-insensitive regex scan
    # costs ~0.4 s per MB, a substring test on the lowered text a few ms (HAR of large bodies).
    if "eyJ" in text:
        text = JWT_PATTERN.sub(MASKED_JWT, text)
    if "sb_" in text:
        text = OPAQUE_KEY.sub(MASK, text)
    low = text.lower()
    if any(word in low for word in _FIELD_WORDS):
        text = JSON_FIELD.sub(lambda m: m.group(1) + _masked_value(m.group(2)) + m.group(3), text)
        if "=" in text:  # the rule needs one; its scan is the slowest (~0.1 s per MB)
            text = QUERY_FIELD.sub(lambda m: m.group(1) + _masked_value(m.group(2)), text)
    if any(word in low for word in _HEADER_WORDS):
        text = HEADER_LINE.sub(lambda m: m.group(1) + _masked_header(m.group(2)), text)
    return text


def is_secret_field(name: str) -> bool:
    """True for field names whose values are secrets (``access_token``, ``password``...)."""
    return name.lower() in SECRET_FIELDS or name.lower() in SECRET_HEADERS


def mask_bytes(body: bytes, known: Iterable[str] = ()) -> bytes:
    """Bytes with JWTs, opaque keys and ``known`` secrets replaced (for base64 exports and hex views)."""
    for secret in known:
        if secret and len(secret) >= 8 and secret.encode() in body:
            body = body.replace(secret.encode(), MASK.encode())
    if b"eyJ" in body:
        body = JWT_BYTES.sub(MASKED_JWT.encode(), body)
    return _OPAQUE_BYTES.sub(MASK.encode(), body) if b"sb_" in body else body


def mask_url(url: str, known: Iterable[str] = ()) -> str:
    """``https://x/a?token=abc&x=1`` → ``https://x/a?token=[masked]&x=1``; a password in the
    URL too: ``postgresql://postgres:pw@db:5432/postgres`` → ``postgresql://postgres:[masked]@db:5432/postgres``."""
    return mask_text(_URL_PASSWORD.sub(lambda m: m.group(1) + MASK + "@", url), known)


def mask_headers(headers: Iterable[tuple[str, str]] | Mapping[str, str],
                 known: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Header pairs with secret headers masked (``Bearer [masked]`` keeps the scheme)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    known = tuple(known)
    return [(name, _masked_header(value) if name.lower() in SECRET_HEADERS
             else mask_text(value, known)) for name, value in pairs]


def _masked_value(value: str) -> str:
    return value if value in ("", MASK, MASKED_JWT) else MASK


def _masked_header(value: str) -> str:
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "token"):
        return f"{scheme} {MASK}"
    return MASK

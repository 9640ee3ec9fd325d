"""What a Supabase URL and key say about themselves, without using them.

    facts = key_facts(os.environ["SUPABASE_KEY"])
    facts.role, facts.ref, facts.expired      # "service_role", "abcdefghijklmnopqrst", False
    url_ref("https://abcdefghijklmnopqrst.supabase.co")   # "abcdefghijklmnopqrst"
    mismatch(facts, "http://127.0.0.1:54321")            # "the key belongs to hosted project ..."

Facts (Supabase docs, API keys; ``supabase status``): hosted legacy keys are HS256 JWTs
whose payload holds ``iss: "supabase"``, ``ref: <project ref>`` and ``role`` (``anon`` or
``service_role``); the CLI's local keys carry ``iss: "supabase-demo"`` and no ``ref``; new
opaque keys start ``sb_publishable_`` (anon) or ``sb_secret_`` (service role). A hosted
project's API URL is ``https://<ref>.supabase.co``. Nothing here returns a key's value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["KeyFacts", "expected_role", "key_facts", "mismatch", "url_ref"]

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "host.docker.internal"}


@dataclass(frozen=True)
class KeyFacts:
    kind: str                 # jwt | sb_secret | sb_publishable | unknown
    role: str | None = None   # anon | service_role | authenticated | ...
    ref: str | None = None
    issuer: str | None = None
    expires: int | None = None

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires < time.time()

    def describe(self) -> str:
        """``JWT, role service_role, project ref abcd…, issuer supabase, expires 2035-01-01`` (no value)."""
        if self.kind == "unknown":
            return "not a Supabase key (neither a JWT nor an sb_ key)"
        parts = ["JWT" if self.kind == "jwt" else f"{self.kind}_… key", f"role {self.role or '?'}"]
        if self.ref:
            parts.append(f"project ref {self.ref}")
        if self.issuer:
            parts.append(f"issuer {self.issuer}")
        if self.expires:
            parts.append(("expired " if self.expired else "expires ")
                         + time.strftime("%Y-%m-%d", time.gmtime(self.expires)))
        return ", ".join(parts)


def key_facts(key: str) -> KeyFacts:
    """Read a key's public claims (the signature is not checked: the doctor has no secret)."""
    key = key.strip()
    if key.startswith("sb_secret_"):
        return KeyFacts("sb_secret", "service_role")
    if key.startswith("sb_publishable_"):
        return KeyFacts("sb_publishable", "anon")
    import jwt

    try:
        claims = jwt.decode(key, options={"verify_signature": False, "verify_exp": False,
                                          "verify_aud": False})
    except jwt.PyJWTError:
        return KeyFacts("unknown")
    exp = claims.get("exp")
    return KeyFacts("jwt", str(claims.get("role")) if claims.get("role") else None,
                    str(claims["ref"]) if claims.get("ref") else None,
                    str(claims["iss"]) if claims.get("iss") else None,
                    int(exp) if isinstance(exp, (int, float)) else None)


def url_ref(url: str) -> str | None:
    """The project ref of a hosted URL (``https://<ref>.supabase.co``), else None."""
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith((".supabase.co", ".supabase.in")) and host.count(".") == 2:
        return host.split(".")[0]
    return None


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in _LOCAL_HOSTS


def expected_role(variable: str) -> str | None:
    """The role a variable's name promises: ``SUPABASE_ANON_KEY`` → anon, ``..._SERVICE_ROLE_KEY`` → service_role."""
    name = variable.upper()
    if any(word in name for word in ("ANON", "PUBLISHABLE", "PUBLIC")):
        return "anon"
    if any(word in name for word in ("SERVICE", "SECRET", "ADMIN")):
        return "service_role"
    return None


def mismatch(facts: KeyFacts, url: str) -> str | None:
    """Why this key cannot belong to the project at ``url``, or None when it may."""
    ref = url_ref(url)
    if facts.ref and ref and facts.ref != ref:
        return f"the key belongs to project {facts.ref}, the URL is project {ref}"
    if facts.ref and is_local(url):
        return f"the key belongs to hosted project {facts.ref}, the URL is a local stack"
    if ref and facts.issuer == "supabase-demo":
        return f"the key is the Supabase CLI's local demo key, the URL is hosted project {ref}"
    if ref and facts.issuer == "kit":
        return f"the key is the kit's embedded-stack key, the URL is hosted project {ref}"
    return None

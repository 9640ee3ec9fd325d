"""What can be said about an API key or token a request sent, without ever showing it.

    facts = key_facts(exchange, "apikey")      # the request's apikey header (or its bearer token)
    facts.lines()    # ["apikey sent: a JWT, role 'anon', iss 'supabase', ref 'abcd', issued ...",
                     #  "the URL's project ref is 'wxyz' (https://wxyz.supabase.co), the key's is 'abcd'",
                     #  "the key sent is the value of $SUPABASE_KEY"]
    facts.where      # "SUPABASE_KEY" (the variables holding it), or "the variable your code reads"

Facts relied on: Supabase's legacy API keys are HS256 JWTs whose claims carry ``role``, ``iss``
(``supabase`` on hosted projects, ``supabase-demo`` for the CLI's, ``kit`` for the kit's stack),
``ref`` (the project ref of hosted projects, the ``<ref>`` of ``https://<ref>.supabase.co``) and
``iat``/``exp``; the new keys are opaque ``sb_publishable_...``/``sb_secret_...`` strings. The
claims are read, never verified (the secret is the project's), and the key itself is never put in
any line: only its shape, its claims and the names of the environment variables that hold it.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from kit.capture import Exchange

__all__ = ["KeyFacts", "key_facts", "token_claims"]

_SHOWN_CLAIMS = ("role", "iss", "ref")
_HOSTED = re.compile(r"^([a-z0-9]{20})\.supabase\.(?:co|in|net)$")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@dataclass(frozen=True)
class KeyFacts:
    """The shape and claims of one key a request sent, the URL it went to, and where it came from."""

    header: str  # "apikey" or "Authorization"
    shape: str  # "a JWT", "an opaque publishable key (sb_publishable_...)", ...
    claims: dict[str, Any] = field(default_factory=dict)
    url: str | None = None  # scheme://host[:port] the request went to
    env_names: tuple[str, ...] = ()

    @property
    def url_ref(self) -> str | None:
        """The project ref in a hosted project's URL (``https://<ref>.supabase.co``)."""
        match = _HOSTED.match(urlsplit(self.url or "").hostname or "")
        return match.group(1) if match else None

    @property
    def meant_role(self) -> str | None:
        """The role the key should have: the one its variable's name says (``ANON_KEY``,
        ``SERVICE_ROLE_KEY``), else the one the key claims."""
        for name in self.env_names:
            meant = _named_role(name)
            if meant:
                return meant
        role = self.claims.get("role")
        return role if role in ("anon", "service_role") else None

    @property
    def local(self) -> bool:
        return (urlsplit(self.url or "").hostname or "") in _LOCAL_HOSTS

    @property
    def where(self) -> str:
        """The environment variables that hold the key, or what to look for."""
        if self.env_names:
            return " / ".join(f"${name}" for name in self.env_names)
        return "the variable your code reads the key from"

    def lines(self) -> list[str]:
        claims = ", ".join(f"{name} {self.claims[name]!r}" for name in _SHOWN_CLAIMS
                           if name in self.claims)
        issued = self.claims.get("iat")
        when = (f", issued {datetime.fromtimestamp(issued, timezone.utc):%Y-%m-%d %H:%M} UTC"
                if isinstance(issued, (int, float)) and not isinstance(issued, bool) else "")
        lines = [f"{self.header} sent: {self.shape}" + (f", {claims}" if claims else "") + when]
        if self.url is not None:
            lines.append(f"sent to {self.url}")
        ref, key_ref = self.url_ref, self.claims.get("ref")
        if ref and key_ref and ref != key_ref:
            lines.append(f"the URL's project ref is {ref!r}, the key's ref claim is {key_ref!r}: "
                         "a key of another project")
        if self.env_names:
            lines.append(f"the key sent is the value of {self.where}")
        role = self.claims.get("role")
        for name in self.env_names:
            meant = _named_role(name)
            if meant and role and role != meant:
                lines.append(f"${name} holds a {role} key, not {'an' if meant == 'anon' else 'a'} "
                             f"{meant} key")
        return lines

    def placeholder(self) -> str:
        """``<the anon key from `kit stack status` for http://127.0.0.1:54321>``: what to paste."""
        role = self.meant_role or "anon"
        if self.local:
            return f"<the {role} key from `kit stack status` (or `supabase status`) for {self.url}>"
        if self.url_ref:
            return f"<the {role} key of project {self.url_ref} (Project Settings → API)>"
        return f"<the {role} key of the project at {self.url or 'your URL'}>"

    def get_the_key(self) -> str:
        """Where the right key is, for the project at ``url``."""
        role = self.meant_role
        which = f"the {role} key" if role else "the anon (or service_role) key"
        if self.url is None:
            return f"copy {which} of the project your URL points at"
        if self.local:
            return (f"copy {which} of the stack at {self.url}: `python -m kit stack status` prints "
                    "it for the kit's stack, `supabase status` for a Supabase CLI stack")
        project = f"project {self.url_ref!r}" if self.url_ref else f"the project at {self.url}"
        return f"copy {which} of {project} from its dashboard (Project Settings → API)"


def _named_role(name: str) -> str | None:
    upper = name.upper()
    return "anon" if "ANON" in upper else "service_role" if "SERVICE" in upper else None


def key_facts(ex: Exchange | None, header: str = "apikey", *,
              env: Mapping[str, str] | None = None) -> KeyFacts | None:
    """The facts of the key ``ex`` sent in ``header`` ("apikey", or "authorization" for its
    bearer token); None when there is no request or it sent no such header."""
    if ex is None:
        return None
    value = (ex.request_header(header) or "").strip()
    if header.lower() == "authorization":
        value = value.removeprefix("Bearer ").removeprefix("bearer ").strip()
    if not value:
        return None
    parts = urlsplit(ex.url)
    environ = os.environ if env is None else env
    names = tuple(sorted(name for name, held in environ.items() if held.strip() == value))
    shape, claims = _shape(value)
    return KeyFacts(header if header == "apikey" else "Authorization bearer token", shape, claims,
                    f"{parts.scheme}://{parts.netloc}" if parts.netloc else None, names)


def _shape(key: str) -> tuple[str, dict[str, Any]]:
    if key.startswith(("sb_publishable_", "sb_secret_")):
        kind = "publishable" if key.startswith("sb_publishable_") else "secret"
        return f"an opaque {kind} key (sb_{kind}_...)", {}
    parts = key.split(".")
    if len(parts) != 3:
        return f"not a JWT ({len(key)} characters, {len(parts)} dot-separated parts; a truncated copy?)", {}
    claims = token_claims(key)
    if claims is None:
        return f"not a readable JWT ({len(key)} characters; a truncated or altered copy?)", {}
    kept = {k: v for k, v in claims.items() if k in (*_SHOWN_CLAIMS, "iat", "exp")
            and isinstance(v, (str, int, float))}
    return "a JWT", kept


def token_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, read and never verified; None when ``token`` is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None

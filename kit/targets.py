"""Targets: where a Supabase project lives and the keys to reach it.

A ``Target`` never shows its keys: its repr, its display and its ``describe()`` mask them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TargetKind = Literal["embedded", "local", "remote"]


def mask_secret(value: str | None) -> str:
    """``eyJhbGciOi…`` → ``eyJ…(208 chars)``: enough to tell keys apart, never enough to use."""
    if not value:
        return "(none)"
    return f"{value[:3]}…({len(value)} chars)"


@dataclass(frozen=True)
class Target:
    """A Supabase project the kit talks to: ``Target("embedded", url, anon_key, service_role_key)``."""

    kind: TargetKind
    url: str
    anon_key: str = field(repr=False)
    service_role_key: str | None = field(default=None, repr=False)
    database_url: str | None = field(default=None, repr=False)
    jwt_secret: str | None = field(default=None, repr=False)
    key_source: str = ""  # e.g. "env SUPABASE_KEY": where the key came from, for error messages

    @property
    def key(self) -> str:
        """The most privileged key available (service_role when known)."""
        return self.service_role_key or self.anon_key

    @property
    def is_embedded(self) -> bool:
        return self.kind == "embedded"

    def describe(self) -> dict[str, Any]:
        """JSON-able description with keys masked, for reports and displays."""
        return {"kind": self.kind, "url": self.url, "anon_key": mask_secret(self.anon_key),
                "service_role_key": mask_secret(self.service_role_key)}

    def __repr__(self) -> str:
        return f"<Target {self.kind} {self.url}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td><code>{v}</code></td></tr>"
                       for k, v in self.describe().items())
        return {"text/plain": repr(self), "text/html": f"<table>{rows}</table>"}

"""The catalogue of what the services answer, loaded from ``catalogue.yaml`` into one Registry.

    entry = CATALOGUE.get_or_fail("postgrest:PGRST205")
    entry.title, entry.meaning, entry.causes, entry.fix, entry.status
    find_entry("storage", "not_found")          # the NoSuchKey entry (found by its alias)

Keys are ``"<service>:<code>"`` for services ``postgrest``, ``sqlstate``, ``storage``, ``auth``.
The data comes from the services' public documentation (sources at the top of the YAML file);
it holds no code, so adding a code is adding four lines of YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from kit.registry import Registry

__all__ = ["CATALOGUE", "DOCS", "CatalogueEntry", "find_entry", "load_catalogue"]

SOURCE = Path(__file__).with_name("catalogue.yaml")
DOCS = {
    "postgrest": "https://docs.postgrest.org/en/stable/references/errors.html",
    "sqlstate": "https://www.postgresql.org/docs/current/errcodes-appendix.html",
    "storage": "https://supabase.com/docs/guides/storage/debugging/error-codes",
    "auth": "https://supabase.com/docs/guides/auth/debugging/error-codes",
}
SERVICE_NAMES = {"postgrest": "PostgREST", "sqlstate": "PostgreSQL", "storage": "Supabase Storage",
                 "auth": "Supabase Auth"}


@dataclass(frozen=True)
class CatalogueEntry:
    """One documented answer of a service: what it means, why it usually happens, the fix."""

    service: str
    code: str
    title: str
    meaning: str
    causes: tuple[str, ...]
    fix: str
    status: int | None = None
    aliases: tuple[str, ...] = ()
    look: str = ""

    @property
    def key(self) -> str:
        return f"{self.service}:{self.code}"

    @property
    def docs(self) -> str:
        return DOCS[self.service]


def load_catalogue(path: Path = SOURCE) -> Registry[CatalogueEntry]:
    """Read the YAML file into a Registry; every alias is a second key for the same entry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    registry: Registry[CatalogueEntry] = Registry("catalogue entry")
    for service, entries in data.items():
        for code, fields in entries.items():
            entry = CatalogueEntry(service, str(code), fields["title"], fields["meaning"],
                                   tuple(fields["causes"]), fields["fix"], fields.get("status"),
                                   tuple(fields.get("aliases", ())), fields.get("look", ""))
            registry.add(entry.key, entry)
            for alias in entry.aliases:
                registry.add(f"{service}:{alias}", entry)
    return registry


CATALOGUE = load_catalogue()


def find_entry(service: str, code: str) -> CatalogueEntry | None:
    """The entry for a code a service answered with, or None when the catalogue lacks it."""
    return CATALOGUE.get(f"{service}:{code}")

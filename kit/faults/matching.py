"""Which requests a fault rule applies to: ``Match`` over a ``RequestInfo`` (pure).

    info = RequestInfo.of("GET", "/storage/v1/object/public/ads/1.webp")
    info.service, info.bucket                         # ('storage', 'ads')
    Match.from_dict({"service": "storage", "bucket": "ad*"}).matches(info)   # True

A match with no ``service`` selects every Supabase service (rest, storage, auth,
functions) and never the kit's own ``/_kit`` routes; name ``"kit"`` to reach those.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kit.faults.errors import FaultRuleError

SERVICE_PREFIXES = {"rest": "/rest/v1", "storage": "/storage/v1", "auth": "/auth/v1",
                    "functions": "/functions/v1", "kit": "/_kit"}
SUPABASE_SERVICES = ("rest", "storage", "auth", "functions")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# storage path words that stand between /object/ and the bucket name
_STORAGE_ACCESS_WORDS = {"public", "sign", "authenticated", "list", "info", "upload"}
MATCH_FIELDS = ("service", "method", "path", "table", "bucket")


@dataclass(frozen=True)
class RequestInfo:
    """What a rule can see of a request, on the server and in the client transport alike."""

    method: str
    path: str
    service: str | None = None
    table: str | None = None
    bucket: str | None = None
    host: str = ""

    @classmethod
    def of(cls, method: str, path: str, host: str = "") -> RequestInfo:
        """``RequestInfo.of("GET", "/rest/v1/chats")`` → service 'rest', table 'chats'."""
        service = next((name for name, prefix in SERVICE_PREFIXES.items()
                        if path == prefix or path.startswith(prefix + "/")), None)
        rest = path[len(SERVICE_PREFIXES[service]):].strip("/").split("/") if service else []
        table = bucket = None
        if service == "rest" and rest and rest[0] and rest[0] != "rpc":
            table = rest[0]
        elif service == "storage" and len(rest) >= 2 and rest[1]:
            bucket = _bucket_of(rest)
        return cls(method.upper(), path, service, table, bucket, host)


def _bucket_of(parts: list[str]) -> str | None:
    if parts[0] == "bucket":
        return parts[1] or None
    if parts[0] == "render" and len(parts) >= 4:  # render/image/<access>/<bucket>/...
        return parts[3] or None
    if parts[0] != "object":
        return None
    if parts[1:] in (["move"], ["copy"]):  # these carry the bucket in the body
        return None
    rest = parts[1:]
    while rest and rest[0] in _STORAGE_ACCESS_WORDS:
        rest = rest[1:]
    return rest[0] if rest and rest[0] else None


def _names(field: str, value: Any, known: tuple[str, ...] | None) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(i, str) for i in items):
        raise FaultRuleError(f"match.{field} must be a name or a list of names, not {value!r}",
                             fix=f"e.g. {field}: {known[0] if known else 'name'!r}")
    norm = tuple(i.upper() if field == "method" else i.lower() for i in items)
    if known is not None:
        for name in norm:
            if name not in known:
                raise FaultRuleError(f"unknown match.{field} {name!r}; known: {', '.join(known)}",
                                     fix=f"use one of {', '.join(known)}")
    return norm


def _glob(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise FaultRuleError(f"match.{field} must be a glob string, not {value!r}",
                             fix=f"e.g. {field}: {'/storage/v1/object/*' if field == 'path' else 'chat*'!r}")
    return value


@dataclass(frozen=True)
class Match:
    """Request selector: every given field must match (globs use ``fnmatch``; ``*`` crosses ``/``)."""

    service: tuple[str, ...] = ()
    method: tuple[str, ...] = ()
    path: str | None = None
    table: str | None = None
    bucket: str | None = None

    def matches(self, req: RequestInfo) -> bool:
        services = self.service or SUPABASE_SERVICES
        if req.service not in services:
            return False
        if self.method and req.method not in self.method:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(req.path, self.path):
            return False
        if self.table is not None and (req.table is None or not fnmatch.fnmatchcase(req.table, self.table)):
            return False
        return self.bucket is None or (req.bucket is not None
                                       and fnmatch.fnmatchcase(req.bucket, self.bucket))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Match:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise FaultRuleError(f"match must be a mapping, not {data!r}",
                                 fix='e.g. match: {"service": "storage", "method": "GET"}')
        unknown = sorted(set(data) - set(MATCH_FIELDS))
        if unknown:
            raise FaultRuleError(f"unknown match field {unknown[0]!r}; known: {', '.join(MATCH_FIELDS)}",
                                 fix=f"use one of {', '.join(MATCH_FIELDS)}")
        return cls(
            service=_names("service", data["service"], tuple(SERVICE_PREFIXES)) if "service" in data else (),
            method=_names("method", data["method"], METHODS) if "method" in data else (),
            path=_glob("path", data["path"]) if "path" in data else None,
            table=_glob("table", data["table"]) if "table" in data else None,
            bucket=_glob("bucket", data["bucket"]) if "bucket" in data else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("service", "method"):
            value: tuple[str, ...] = getattr(self, name)
            if value:
                out[name] = value[0] if len(value) == 1 else list(value)
        for name in ("path", "table", "bucket"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def describe(self) -> str:
        parts = [*self.service, *self.method]
        parts += [f"{name}={getattr(self, name)}" for name in ("path", "table", "bucket")
                  if getattr(self, name) is not None]
        return " ".join(parts) or "any request"

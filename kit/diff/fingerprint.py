"""Result fingerprints: normalised data, so equal results from different clients compare equal.

    fingerprint(sync_client.table("t").select("*").execute())      # Fingerprint('3f2a…', 'APIResponse data=list[2]')
    fingerprint(await async_client.table("t").select("*").execute())  # the same digest

An ``APIResponse`` becomes its ``data`` and ``count``; bytes become length + SHA-256;
pydantic models their JSON dump; dicts are key-sorted. With ``masks`` (``kit.diff.masking``)
the fields a write's server generated are masked first. Two results are equal when their
digests are.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@dataclass(frozen=True)
class Fingerprint:
    """``digest`` (12 hex chars of SHA-256 of the normalised value) and a short ``summary``."""

    digest: str
    summary: str

    def __str__(self) -> str:
        return f"{self.summary} #{self.digest}"


def normalise(value: Any) -> Any:
    """A JSON-able canonical form of a result: ``normalise(b"abc") == {"bytes": 3, "sha256": "ba78…"}``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if _is_api_response(value):
        return {"data": normalise(value.data), "count": normalise(value.count)}
    if hasattr(value, "model_dump"):
        return normalise(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return normalise(dataclasses.asdict(value))
    if _is_httpx_response(value):
        return {"status": value.status_code, "body": normalise(value.content)}
    return {"type": type(value).__qualname__, "repr": _ADDRESS.sub("", repr(value))}


def describe(value: Any) -> str:
    """A short human summary: ``APIResponse data=list[2]``, ``bytes 3.1 MB``, ``str 512 chars``."""
    if _is_api_response(value):
        return f"{type(value).__name__} data={describe_shape(value.data)}"
    return describe_shape(value)


def describe_shape(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"bytes {_size(len(value))}"
    if isinstance(value, str):
        return f"str {len(value)} chars"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}[{len(value)}]"
    if isinstance(value, dict):
        return f"dict[{len(value)} keys]"
    return type(value).__name__


def fingerprint(value: Any, masks: Any = None) -> Fingerprint:
    """Digest and summary of a result (see the module docstring)."""
    normalised = normalise(value)
    if masks:
        normalised = masks.apply(normalised)
    canonical = json.dumps(normalised, sort_keys=True, separators=(",", ":"), default=str)
    return Fingerprint(hashlib.sha256(canonical.encode()).hexdigest()[:12], describe(value))


def forgotten_execute(value: Any) -> str | None:
    """The builder's class name when an operation returned a supabase-py request builder (it
    never called ``.execute()``, so nothing was sent), else None."""
    cls = type(value)
    module = cls.__module__.split(".")[0]
    if module in ("postgrest", "supabase", "storage3") and callable(getattr(value, "execute", None)):
        return cls.__name__
    return None


def _is_api_response(value: Any) -> bool:
    return any(cls.__name__ == "APIResponse" and cls.__module__.startswith("postgrest")
               for cls in type(value).__mro__)


def _is_httpx_response(value: Any) -> bool:
    return type(value).__name__ == "Response" and type(value).__module__.startswith("httpx")


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.1f} kB"
    return f"{n} B"

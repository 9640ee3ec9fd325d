"""Deterministic fault injection: one rule model, applied in the stack or in the client.

    rule = {"match": {"service": "storage", "method": "GET"},
            "when": {"in_flight_at_least": 4},
            "effect": {"html_page": "cloudflare-520"}, "seed": 7}
    with kit.stack.faults.add(rule):                      # server side (embedded stack)
        ...
    transport = kit.faults.wrap_sync(httpx.HTTPTransport(), [rule])   # client side, any target

Parts: ``matching`` (match), ``triggers`` (when), ``effects`` (effect), ``pages`` (edge
HTML pages), ``rules`` (FaultRule), ``engine`` (FaultSet: counts, seeds, in-flight,
log), ``middleware`` (ASGI, server side), ``transport`` (httpx, client side),
``admin`` (the stack's /_kit/faults routes), ``client`` (``kit.stack.faults``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kit.faults.effects import EFFECTS, Effect, EffectSpec, Injection, register_effect
from kit.faults.engine import FAULT_HEADER, FaultSet
from kit.faults.errors import FaultAdminError, FaultRuleError
from kit.faults.matching import Match, RequestInfo
from kit.faults.pages import PAGES, PageTemplate, register_page
from kit.faults.rules import FaultRule, catalog, parse_rules
from kit.faults.triggers import TRIGGERS, Trigger, When, register_trigger

if TYPE_CHECKING:
    from kit.faults.client import ActiveFaults, FaultsClient
    from kit.faults.transport import AsyncFaultTransport, FaultTransport, wrap_async, wrap_sync

# the client-side parts import httpx: loaded on first use, so the stack's server process,
# which needs only the rule model and the middleware, starts without it (cold start)
_CLIENT_SIDE = {"ActiveFaults": "kit.faults.client", "FaultsClient": "kit.faults.client",
                "AsyncFaultTransport": "kit.faults.transport", "FaultTransport": "kit.faults.transport",
                "wrap_async": "kit.faults.transport", "wrap_sync": "kit.faults.transport"}


def __getattr__(name: str) -> Any:
    if name not in _CLIENT_SIDE:
        raise AttributeError(f"module 'kit.faults' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_CLIENT_SIDE[name]), name)

__all__ = [
    "EFFECTS",
    "FAULT_HEADER",
    "PAGES",
    "TRIGGERS",
    "ActiveFaults",
    "AsyncFaultTransport",
    "Effect",
    "EffectSpec",
    "FaultAdminError",
    "FaultRule",
    "FaultRuleError",
    "FaultSet",
    "FaultTransport",
    "FaultsClient",
    "Injection",
    "Match",
    "PageTemplate",
    "RequestInfo",
    "Trigger",
    "When",
    "catalog",
    "parse_rules",
    "register_effect",
    "register_page",
    "register_trigger",
    "wrap_async",
    "wrap_sync",
]

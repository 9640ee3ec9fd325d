"""Named fault profiles the scenario notebooks and report profiles refer to.

    fault_rules("edge-html-under-load", seed=7)   # -> list of kit.faults rule dicts

Each profile is plain data in the ``kit.faults`` rule schema; ``seed`` is stamped on
every rule so a replay is the same every time.
"""

from __future__ import annotations

from typing import Any

from kit.errors import UsageError

FAULT_PROFILES: dict[str, list[dict[str, Any]]] = {
    "none": [],
    # seeds/002: under load the edge answers storage downloads with Cloudflare's 520 page.
    "edge-html-under-load": [
        {"id": "edge-520-under-load", "match": {"service": "storage", "method": "GET"},
         "when": {"in_flight_at_least": 4}, "effect": {"html_page": "cloudflare-520"}},
    ],
    # The silent case: the edge's rate-limit page with status 200; every 3rd download.
    "edge-html-200": [
        {"id": "edge-1015-as-200", "match": {"service": "storage", "method": "GET"},
         "when": {"every": 3}, "effect": {"html_page": "cloudflare-1015", "status": 200}},
    ],
    # A REST read answered by Cloudflare's 522 page (no postgrest retry for 522).
    "rest-edge-522": [
        {"id": "edge-522-on-rest", "match": {"service": "rest", "method": "GET"},
         "when": {"always": True}, "effect": {"html_page": "cloudflare-522"}},
    ],
    # The silent REST case: an HTML page with status 200 becomes APIResponse.data (a str).
    "rest-edge-200": [
        {"id": "edge-page-as-200-on-rest", "match": {"service": "rest", "method": "GET"},
         "when": {"always": True}, "effect": {"html_page": "cloudflare-1015", "status": 200}},
    ],
    # seeds/001's worker under a flaky edge: Kong 502 pages and reset connections on RPCs.
    "flaky-rpc": [
        {"id": "kong-502-on-rpc", "match": {"service": "rest", "method": "POST", "path": "/rest/v1/rpc/*"},
         "when": {"probability": 0.15}, "effect": {"html_page": "kong-502"}},
        {"id": "reset-on-rpc", "match": {"service": "rest", "method": "POST", "path": "/rest/v1/rpc/*"},
         "when": {"probability": 0.1}, "effect": {"connection_reset": True}},
        {"id": "answer-lost-on-rpc", "match": {"service": "rest", "method": "POST", "path": "/rest/v1/rpc/*"},
         "when": {"probability": 0.1}, "effect": {"answer_lost": True}},
    ],
    # The hard one for exactly-once: claims and completions commit, but their answers are lost
    # (a worker must not take a lost answer for a failure it may redo).
    "lost-answers": [
        {"id": "answer-lost-on-rpc", "match": {"service": "rest", "method": "POST", "path": "/rest/v1/rpc/*"},
         "when": {"probability": 0.3}, "effect": {"answer_lost": True}},
    ],
    # seeds/000's logging under rate limiting: a 429 with Retry-After on inserts.
    "rate-limited-inserts": [
        {"id": "429-on-insert", "match": {"service": "rest", "method": "POST"},
         "when": {"every": 4}, "effect": {"rate_limit": 1}},
    ],
}


def fault_rules(profile: str | list[dict[str, Any]] | None, *, seed: int = 0) -> list[dict[str, Any]] | None:
    """The rules of a named profile (or rules given directly), each with ``seed``; None for none."""
    if profile is None or profile == "none":
        return None
    if isinstance(profile, list):
        rules = profile
    elif profile in FAULT_PROFILES:
        rules = FAULT_PROFILES[profile]
    else:
        raise UsageError(f"unknown fault profile {profile!r}; known: {', '.join(FAULT_PROFILES)}",
                         fix="pass one of the known names, or a list of kit.faults rule dicts")
    return [{**rule, "seed": seed + index} for index, rule in enumerate(rules)]


def with_latency(rules: list[dict[str, Any]] | None, latency_ms: float,
                 service: str = "storage") -> list[dict[str, Any]] | None:
    """Add a network round trip of ``latency_ms`` to every ``service`` request (client side).

    Loopback answers in a millisecond; a real project is 20–200 ms away. With the latency
    in the transport, a sync call on the loop blocks it for as long as it would in production.
    """
    if latency_ms <= 0:
        return rules
    latency = {"id": f"network-latency-{latency_ms:g}ms", "match": {"service": service},
               "effect": {"latency": latency_ms / 1000.0}}
    return [*(rules or []), latency]

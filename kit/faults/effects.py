"""What a fault does: a registry of effects, each planning an ``Injection`` (pure).

    effect = Effect.from_dict({"html_page": "cloudflare-520", "status": 200})
    ctx = PlanContext("r1", RequestInfo.of("GET", "/rest/v1/chats"), random.Random(0), now=0.0)
    injection = plan(effect, ctx)
    injection.action, injection.status                       # ('reply', 200)

An ``Injection`` is plain data; the ASGI middleware and the client transports carry it
out. Actions: ``reply`` (answer instead of the service), ``pass`` (forward, then delay,
re-type, slow down or truncate the real answer), ``reset`` (drop the connection),
``hang`` (answer nothing until the client gives up), ``lose`` (let the service handle and
commit the request, then drop the connection instead of answering).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from kit.faults.errors import FaultRuleError
from kit.faults.matching import RequestInfo
from kit.faults.pages import page_named

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Injection:
    """One planned fault for one request."""

    rule_id: str
    effect: str
    action: str  # reply | pass | reset | hang | lose
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay: float = 0.0
    chunk_delay: float = 0.0
    chunk_size: int = 0
    keep_fraction: float | None = None
    content_type: str | None = None
    ray_id: str = ""

    @property
    def rewrites_body(self) -> bool:
        return self.keep_fraction is not None or self.chunk_size > 0


@dataclass(frozen=True)
class PlanContext:
    rule_id: str
    request: RequestInfo
    rng: random.Random  # the rule's own effect stream: Ray IDs, jitter
    now: float  # wall clock, for the time printed on pages


@dataclass(frozen=True)
class EffectSpec:
    name: str
    check: Callable[[Any], Any]  # main value -> normalised; ValueError("what is expected")
    params: dict[str, Callable[[Any], Any]]
    plan: Callable[[Any, dict[str, Any], PlanContext], Injection]
    example: str


EFFECTS: dict[str, EffectSpec] = {}


def register_effect(spec: EffectSpec) -> EffectSpec:
    """Add an effect to the registry (its name becomes a key of a rule's ``effect``)."""
    EFFECTS[spec.name] = spec
    return spec


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise ValueError("an HTTP status between 100 and 599")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError("a number of seconds ≥ 0")
    return float(value)


def _true(value: Any) -> bool:
    if value is not True:
        raise ValueError("true")
    return True


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in value.items()):
        raise ValueError("a mapping of header names to string values")
    return tuple((k.lower(), v) for k, v in value.items())


def _json_body(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise ValueError("a JSON value") from None
    return value


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError("the fraction of the body kept, 0 ≤ f < 1")
    return float(value)


def _content_type(value: Any) -> str:
    if not isinstance(value, str) or not value or "\n" in value:
        raise ValueError("a content type such as 'text/html; charset=utf-8'")
    return value


def _chunk_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number of bytes ≥ 1")
    return value


def _page_name(value: Any) -> str:
    return page_named(value).name


def _ray_id(ctx: PlanContext) -> str:
    return f"{ctx.rng.getrandbits(64):016x}"


def _plan_html_page(value: str, params: dict[str, Any], ctx: PlanContext) -> Injection:
    ray_id = _ray_id(ctx)
    status, headers, body = page_named(value).render(ray_id=ray_id, host=ctx.request.host,
                                                     when=ctx.now, status=params.get("status"))
    return Injection(ctx.rule_id, "html_page", "reply", status,
                     (*headers, *params.get("headers", ())), body, ray_id=ray_id)


def _plan_json_status(value: int, params: dict[str, Any], ctx: PlanContext) -> Injection:
    body = params.get("body", {"message": _phrase(value)})
    return Injection(ctx.rule_id, "json_status", "reply", value,
                     (("content-type", JSON_TYPE), *params.get("headers", ())), json.dumps(body).encode())


def _plan_rate_limit(value: float, params: dict[str, Any], ctx: PlanContext) -> Injection:
    body = params.get("body", {"message": "API rate limit exceeded"})
    return Injection(ctx.rule_id, "rate_limit", "reply", 429,
                     (("content-type", JSON_TYPE), ("retry-after", f"{value:g}")), json.dumps(body).encode())


def _plan_latency(value: float, params: dict[str, Any], ctx: PlanContext) -> Injection:
    jitter = params.get("jitter", 0.0)
    delay = max(0.0, value + ctx.rng.uniform(-jitter, jitter)) if jitter else value
    return Injection(ctx.rule_id, "latency", "pass", delay=delay)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_HEADERS_PARAM = {"headers": _headers}
for _spec in (
    EffectSpec("html_page", _page_name, {"status": _status, **_HEADERS_PARAM}, _plan_html_page,
               'html_page: "cloudflare-520", status: 200'),
    EffectSpec("json_status", _status, {"body": _json_body, **_HEADERS_PARAM}, _plan_json_status,
               'json_status: 503, body: {"message": "upstream down"}'),
    EffectSpec("latency", _seconds, {"jitter": _seconds}, _plan_latency, "latency: 0.5, jitter: 0.1"),
    EffectSpec("rate_limit", _seconds, {"body": _json_body}, _plan_rate_limit,
               "rate_limit: 30  (Retry-After)"),
    EffectSpec("connection_reset", _true, {},
               lambda v, p, c: Injection(c.rule_id, "connection_reset", "reset"), "connection_reset: true"),
    EffectSpec("truncated_body", _fraction, {},
               lambda v, p, c: Injection(c.rule_id, "truncated_body", "pass", keep_fraction=v),
               "truncated_body: 0.5  (fraction kept)"),
    EffectSpec("wrong_content_type", _content_type, {},
               lambda v, p, c: Injection(c.rule_id, "wrong_content_type", "pass", content_type=v),
               'wrong_content_type: "text/html; charset=utf-8"'),
    EffectSpec("slow_body", _seconds, {"chunk_size": _chunk_size},
               lambda v, p, c: Injection(c.rule_id, "slow_body", "pass", chunk_delay=v,
                                         chunk_size=p.get("chunk_size", 1024)),
               "slow_body: 0.2, chunk_size: 512  (seconds between chunks)"),
    EffectSpec("hang", _true, {}, lambda v, p, c: Injection(c.rule_id, "hang", "hang"), "hang: true"),
    # the request reaches the service and commits; its answer never reaches the client
    EffectSpec("answer_lost", _true, {},
               lambda v, p, c: Injection(c.rule_id, "answer_lost", "lose"),
               "answer_lost: true  (the handler commits, the client sees a reset)"),
):
    register_effect(_spec)


@dataclass(frozen=True)
class Effect:
    """A rule's effect: one registered name, its value and its parameters."""

    name: str
    value: Any
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Effect:
        known = ", ".join(EFFECTS)
        if not isinstance(data, Mapping) or not data:
            raise FaultRuleError(f"effect must be a mapping with one effect name, not {data!r}",
                                 fix=f'e.g. effect: {{"html_page": "cloudflare-520"}}; known: {known}')
        names = [key for key in data if key in EFFECTS]
        if not names:
            raise FaultRuleError(f"unknown effect {next(iter(data))!r}; known: {known}",
                                 fix="use one of the known effects")
        if len(names) > 1:
            raise FaultRuleError(f"effect names {' and '.join(names)}; a rule has exactly one effect",
                                 fix="split it into two rules")
        spec = EFFECTS[names[0]]
        value = _checked(spec, spec.check, data[spec.name], spec.name)
        params = []
        for key, raw in data.items():
            if key == spec.name:
                continue
            if key not in spec.params:
                allowed = ", ".join(spec.params) or "none"
                raise FaultRuleError(f"effect {spec.name} has no parameter {key!r}; known: {allowed}",
                                     fix=f"e.g. {spec.example}")
            params.append((key, _checked(spec, spec.params[key], raw, f"{spec.name}.{key}")))
        return cls(spec.name, value, tuple(params))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.name: self.value}
        for key, value in self.params:
            out[key] = dict(value) if key == "headers" else value
        return out

    def describe(self) -> str:
        extra = "".join(f", {k}={dict(v) if k == 'headers' else v}" for k, v in self.params)
        return f"{self.name}={self.value}{extra}"


def _checked(spec: EffectSpec, check: Callable[[Any], Any], value: Any, where: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise FaultRuleError(f"effect {where} must be {exc}, not {value!r}",
                             fix=f"e.g. {spec.example}") from None


def plan(effect: Effect, ctx: PlanContext) -> Injection:
    """The injection ``effect`` makes for one request (draws from ``ctx.rng`` as it needs)."""
    return EFFECTS[effect.name].plan(effect.value, dict(effect.params), ctx)

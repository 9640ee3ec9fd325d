"""Fault rules as plain data: ``FaultRule.from_dict(...)``, ``.to_dict()``, ``parse_rules(...)``.

    rule = FaultRule.from_dict({"match": {"service": "storage", "method": "GET"},
                                "when": {"in_flight_at_least": 4},
                                "effect": {"html_page": "cloudflare-520"}, "seed": 7})
    rule.id              # 'html_page-…' (stable: derived from the rule's content) unless given

Schema (every key but ``effect`` optional)::

    id:     name shown in x-kit-fault and the log ([A-Za-z0-9_.-], ≤ 64 chars)
    match:  {service, method, path, table, bucket}            kit.faults.matching
    when:   {always, nth, every, first, probability,
             in_flight_at_least, window}  (AND)               kit.faults.triggers
    effect: {<one effect name>: value, <its params>...}       kit.faults.effects
    seed:   int, default 0: probability draws, jitter, Ray IDs
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kit.faults.effects import Effect
from kit.faults.errors import FaultRuleError
from kit.faults.matching import Match
from kit.faults.triggers import When

RULE_KEYS = ("id", "match", "when", "effect", "seed")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class FaultRule:
    """One fault rule; build it from plain data with ``FaultRule.from_dict``."""

    effect: Effect
    match: Match = field(default_factory=Match)
    when: When = field(default_factory=When)
    seed: int = 0
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            digest = hashlib.sha1(json.dumps(self._content(), sort_keys=True).encode()).hexdigest()
            object.__setattr__(self, "id", f"{self.effect.name}-{digest[:6]}")
        elif not _ID.match(self.id):
            raise FaultRuleError(f"rule id {self.id!r} is not a plain name",
                                 fix="use letters, digits, '_', '.', '-' (at most 64)")

    def _content(self) -> dict[str, Any]:
        return {"match": self.match.to_dict(), "when": self.when.to_dict(),
                "effect": self.effect.to_dict(), "seed": self.seed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | FaultRule) -> FaultRule:
        if isinstance(data, FaultRule):
            return data
        if not isinstance(data, Mapping):
            raise FaultRuleError(f"a fault rule must be a mapping, not {type(data).__name__}",
                                 fix='e.g. {"effect": {"html_page": "cloudflare-520"}}')
        unknown = [key for key in data if key not in RULE_KEYS]
        if unknown:
            raise FaultRuleError(f"unknown rule key {unknown[0]!r}; known: {', '.join(RULE_KEYS)}",
                                 fix="put triggers under 'when' and effect parameters under 'effect'")
        if "effect" not in data:
            raise FaultRuleError("a fault rule needs an 'effect'",
                                 fix='e.g. "effect": {"html_page": "cloudflare-520"}')
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise FaultRuleError(f"seed must be a whole number, not {seed!r}", fix="e.g. seed: 7")
        rule_id = data.get("id", "")
        if not isinstance(rule_id, str):
            raise FaultRuleError(f"rule id must be a string, not {rule_id!r}", fix='e.g. id: "edge-520"')
        return cls(effect=Effect.from_dict(data["effect"]), match=Match.from_dict(data.get("match")),
                   when=When.from_dict(data.get("when")), seed=seed, id=rule_id)

    def to_dict(self) -> dict[str, Any]:
        """Plain data that ``from_dict`` turns back into an equal rule."""
        return {"id": self.id, **self._content()}

    def describe(self) -> str:
        return f"{self.match.describe()} when {self.when.describe()} → {self.effect.describe()}"

    def __repr__(self) -> str:
        return f"<FaultRule {self.id}: {self.describe()} seed={self.seed}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        cells = (self.id, self.match.describe(), self.when.describe(), self.effect.describe(), str(self.seed))
        row = "".join(f"<td><code>{html.escape(c)}</code></td>" for c in cells)
        head = "".join(f"<th>{h}</th>" for h in ("id", "match", "when", "effect", "seed"))
        return {"text/plain": repr(self), "text/html": f"<table><tr>{head}</tr><tr>{row}</tr></table>"}


RuleLike = FaultRule | Mapping[str, Any]
RulesLike = RuleLike | Iterable[RuleLike]


def catalog() -> dict[str, list[str]]:
    """Every name a rule may use, with an example each: ``catalog()["effect"][0]``."""
    from kit.faults.effects import EFFECTS
    from kit.faults.matching import MATCH_FIELDS, SERVICE_PREFIXES
    from kit.faults.pages import PAGES
    from kit.faults.triggers import TRIGGERS

    return {"match": list(MATCH_FIELDS), "service": list(SERVICE_PREFIXES),
            "when": [t.example for t in TRIGGERS.values()],
            "effect": [e.example for e in EFFECTS.values()], "html_page": list(PAGES)}


def parse_rules(rules: RulesLike) -> list[FaultRule]:
    """One rule, or many, from rules or plain dicts: ``parse_rules([{...}, {...}])``.

    Ids must be distinct; ``FaultRuleError`` names the first bad rule by position."""
    items = [rules] if isinstance(rules, (FaultRule, Mapping)) else list(rules)
    parsed: list[FaultRule] = []
    for index, item in enumerate(items):
        try:
            parsed.append(FaultRule.from_dict(item))
        except FaultRuleError as exc:
            where = f"rule {index + 1} of {len(items)}" if len(items) > 1 else "fault rule"
            raise FaultRuleError(f"{where}: {exc.problem}", fix=exc.fix) from None
    seen: set[str] = set()
    for rule in parsed:
        if rule.id in seen:
            raise FaultRuleError(f"two rules have the id {rule.id!r}", fix="give each rule its own 'id'")
        seen.add(rule.id)
    return parsed

"""When a matching request gets the fault: a registry of trigger conditions (pure).

    when = When.from_dict({"first": 3})                       # the first 3 matching requests
    when.fires(Moment(n=2, in_flight=1, elapsed=0.0, draw=0.9))   # True

Every condition given must hold (they combine with AND). ``n`` counts the requests
the rule's ``match`` selected, from 1; ``draw`` is the rule's next seeded random number
in [0, 1), drawn for every matching request so decisions depend only on the seed and
the request sequence; ``elapsed`` is seconds since the rule was added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kit.faults.errors import FaultRuleError


@dataclass(frozen=True)
class Moment:
    """What a trigger sees of one matching request."""

    n: int
    in_flight: int
    elapsed: float
    draw: float


@dataclass(frozen=True)
class Trigger:
    name: str
    check: Callable[[Any], Any]  # value -> normalised value; raises ValueError("what is expected")
    fires: Callable[[Any, Moment], bool]
    example: str


TRIGGERS: dict[str, Trigger] = {}


def register_trigger(trigger: Trigger) -> Trigger:
    """Add a trigger condition to the registry (its name becomes a key of ``when``)."""
    TRIGGERS[trigger.name] = trigger
    return trigger


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number ≥ 1")
    return value


def _true(value: Any) -> bool:
    if value is not True:
        raise ValueError("true")
    return True


def _probability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError("a number between 0 and 1")
    return float(value)


def _window(value: Any) -> tuple[float, float]:
    numbers = [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    if (not isinstance(numbers, (list, tuple)) or len(numbers) not in (1, 2)
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in numbers)):
        raise ValueError("seconds after the rule was added: END or [START, END]")
    start, end = (0.0, float(numbers[0])) if len(numbers) == 1 else (float(numbers[0]), float(numbers[1]))
    if start >= end:
        raise ValueError("[START, END] with START < END")
    return start, end


for _trigger in (
    Trigger("always", _true, lambda v, m: True, "always: true"),
    Trigger("nth", _positive_int, lambda v, m: m.n == v, "nth: 3  (only the 3rd matching request)"),
    Trigger("every", _positive_int, lambda v, m: m.n % v == 0, "every: 2  (the 2nd, 4th, ...)"),
    Trigger("first", _positive_int, lambda v, m: m.n <= v, "first: 3"),
    Trigger("probability", _probability, lambda v, m: m.draw < v,
            "probability: 0.25  (with the rule's seed)"),
    Trigger("in_flight_at_least", _positive_int, lambda v, m: m.in_flight >= v,
            "in_flight_at_least: 4  (this request included)"),
    Trigger("window", _window, lambda v, m: v[0] <= m.elapsed < v[1],
            "window: [2, 5]  (seconds after adding)"),
):
    register_trigger(_trigger)


@dataclass(frozen=True)
class When:
    """The conditions of a rule, as sorted ``(name, value)`` pairs; none means always."""

    conditions: tuple[tuple[str, Any], ...] = ()

    def fires(self, moment: Moment) -> bool:
        return all(TRIGGERS[name].fires(value, moment) for name, value in self.conditions)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str | None) -> When:
        if data is None or data == "always":
            return cls()
        if not isinstance(data, Mapping):
            raise FaultRuleError(f"when must be a mapping of conditions, not {data!r}",
                                 fix="e.g. when: {\"nth\": 3}; known: " + ", ".join(TRIGGERS))
        conditions = []
        for name, value in data.items():
            trigger = TRIGGERS.get(name)
            if trigger is None:
                raise FaultRuleError(f"unknown trigger {name!r}; known: {', '.join(TRIGGERS)}",
                                     fix="use one of the known triggers")
            try:
                conditions.append((name, trigger.check(value)))
            except ValueError as exc:
                raise FaultRuleError(f"when.{name} must be {exc}, not {value!r}",
                                     fix=f"e.g. {trigger.example}") from None
        return cls(tuple(sorted(c for c in conditions if c[0] != "always")))

    def to_dict(self) -> dict[str, Any]:
        if not self.conditions:
            return {"always": True}
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self.conditions}

    def describe(self) -> str:
        if not self.conditions:
            return "always"
        return " and ".join(f"{name}={list(v) if isinstance(v, tuple) else v}" for name, v in self.conditions)

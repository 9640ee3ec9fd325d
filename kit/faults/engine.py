"""The live rule set both sides share: counts, seeded draws, in-flight requests, the log.

    faults = FaultSet([{"when": {"nth": 2}, "effect": {"json_status": 503}}])
    faults.enter()                                   # a request starts (in-flight + 1)
    faults.decide(RequestInfo.of("POST", "/rest/v1/t"))   # None: the 1st matching request
    faults.leave()

Decisions depend only on each rule's seed and the sequence of matching requests (plus
the in-flight count and the clock for the triggers that ask for them). Every rule
whose ``match`` selects a request counts it and draws its next random number, so one
rule never shifts another's sequence; the first rule (in order added) that fires wins.
Thread-safe: the client transports may be shared by threads.
"""

from __future__ import annotations

import html
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kit.faults.effects import Injection, PlanContext, plan
from kit.faults.errors import FaultRuleError
from kit.faults.matching import RequestInfo
from kit.faults.rules import FaultRule, RulesLike, parse_rules
from kit.faults.triggers import Moment

FAULT_HEADER = "x-kit-fault"


@dataclass
class _RuleState:
    rule: FaultRule
    added_at: float
    trigger_rng: random.Random = field(init=False)
    effect_rng: random.Random = field(init=False)
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        self.trigger_rng = random.Random(f"kit-faults:{self.rule.seed}:when")
        self.effect_rng = random.Random(f"kit-faults:{self.rule.seed}:effect")


class FaultSet:
    """Rules plus their state; used by the stack's middleware and the client transports."""

    def __init__(self, rules: RulesLike = (), *, mark_header: bool = True, log_size: int = 500,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.mark_header = mark_header
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._states: list[_RuleState] = []
        self._in_flight = 0
        self._seq = 0
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self.add(rules)

    def add(self, rules: RulesLike) -> list[str]:
        """Add rules (all or none); returns their ids. A rule starts counting when added."""
        parsed = parse_rules(rules)
        with self._lock:
            taken = {s.rule.id for s in self._states}
            for rule in parsed:
                if rule.id in taken:
                    raise FaultRuleError(f"a rule with id {rule.id!r} is already set",
                                         fix="remove it first, or give the new rule another 'id'")
            now = self._clock()
            self._states.extend(_RuleState(rule, now) for rule in parsed)
        return [rule.id for rule in parsed]

    def remove(self, *ids: str) -> list[str]:
        """Remove rules by id; returns the ids that were set."""
        with self._lock:
            removed = [s.rule.id for s in self._states if s.rule.id in ids]
            self._states = [s for s in self._states if s.rule.id not in ids]
        return removed

    def clear(self) -> list[str]:
        with self._lock:
            removed = [s.rule.id for s in self._states]
            self._states = []
        return removed

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return [s.rule for s in self._states]

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def __bool__(self) -> bool:
        return bool(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    @contextmanager
    def tracking(self) -> Iterator[None]:
        """Count a request as in flight for the duration of the block."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def decide(self, request: RequestInfo) -> Injection | None:
        """The fault for this request, or None; counts it for every matching rule."""
        if not self._states:
            return None
        with self._lock:
            now = self._clock()
            chosen: _RuleState | None = None
            for state in self._states:
                if not state.rule.match.matches(request):
                    continue
                state.seen += 1
                moment = Moment(state.seen, self._in_flight, now - state.added_at, state.trigger_rng.random())
                if chosen is None and state.rule.when.fires(moment):
                    chosen = state
            if chosen is None:
                return None
            chosen.fired += 1
            injection = plan(chosen.rule.effect,
                             PlanContext(chosen.rule.id, request, chosen.effect_rng, self._wall()))
            self._seq += 1
            self._log.append({"seq": self._seq, "rule": chosen.rule.id, "effect": injection.effect,
                              "method": request.method, "path": request.path,
                              "status": injection.status or None, "ray_id": injection.ray_id or None,
                              "n": chosen.seen, "in_flight": self._in_flight})
            return injection

    def log(self) -> list[dict[str, Any]]:
        """Injections so far, oldest first: ``[{"seq", "rule", "effect", "method", "path", ...}]``."""
        with self._lock:
            return list(self._log)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per rule: how many requests matched and how many got the fault."""
        with self._lock:
            return {s.rule.id: {"matched": s.seen, "fired": s.fired} for s in self._states}

    def __repr__(self) -> str:
        return f"<FaultSet {len(self._states)} rules, {self._in_flight} in flight, {self._seq} injected>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        counts = self.counts()
        rows = "".join(
            "<tr>" + "".join(f"<td><code>{html.escape(str(cell))}</code></td>" for cell in (
                rule.id, rule.describe(), counts[rule.id]["matched"], counts[rule.id]["fired"])) + "</tr>"
            for rule in self.rules)
        head = "<tr><th>rule</th><th>match → effect</th><th>matched</th><th>fired</th></tr>"
        return {"text/plain": repr(self), "text/html": f"<table>{head}{rows}</table>"}

"""Everything an explainer may look at, gathered once from what the user passed to explain()."""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from kit.bodies import HiddenBody, hidden_bodies
from kit.capture import Capture, Exchange
from kit.explain.sent import sent_requests

__all__ = ["Case", "build_case"]


@dataclass
class Case:
    """Exceptions (with their cause chains), texts, exchanges, results, facts and loop stalls
    (``kit.loop.Stall``, with the stacks sampled during each). ``sent`` holds the requests the
    exceptions' tracebacks still hold (``kit.explain.sent``), apart from the captured exchanges."""

    exceptions: list[BaseException] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    bodies: list[HiddenBody] = field(default_factory=list)
    origins: dict[int, str] = field(default_factory=dict)  # id(exception) -> the diff mode it came from
    stalls: list[Any] = field(default_factory=list)
    sent: list[Exchange] = field(default_factory=list)  # requests the exceptions' tracebacks hold

    def find(self, pattern: str | re.Pattern[str]) -> re.Match[str] | None:
        """The first match of ``pattern`` in any text (exception messages, given strings)."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        for text in self.texts:
            match = regex.search(text)
            if match:
                return match
        return None

    def line_of(self, match: re.Match[str]) -> str:
        """The whole line a match sits on (for evidence), at most 300 characters."""
        text = match.string
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        return text[start:end if end >= 0 else len(text)][:300]

    def exceptions_named(self, *names: str) -> list[BaseException]:
        return [e for e in self.exceptions if type(e).__name__ in names]

    @property
    def is_empty(self) -> bool:
        return not (self.exceptions or self.texts or self.exchanges or self.results or self.facts
                    or self.stalls)


def build_case(*items: Any, capture: Capture | None = None) -> Case:
    case = Case()
    for item in items:
        _add(case, item, depth=0)
    if capture is not None:
        _add(case, capture, depth=0)
    return case


def _add(case: Case, x: Any, depth: int, origin: str | None = None) -> None:
    if depth > 4 or x is None and depth > 0:
        return
    inputs = getattr(x, "explain_inputs", None)
    if callable(inputs) and not isinstance(x, type):
        mode = getattr(x, "mode", None)  # a diff report's row: its exceptions come from its mode
        for item in inputs():
            _add(case, item, depth + 1, mode if isinstance(mode, str) else origin)
        return
    if _is_loop_watch(x):
        _add_stalls(case, x.stalls, x.threshold_ms)
        return
    if _is_stall(x):
        _add_stalls(case, [x], None)
        return
    if isinstance(x, BaseException):
        current: BaseException | None = x
        while current is not None and all(current is not e for e in case.exceptions):
            case.exceptions.append(current)
            if origin is not None:
                case.origins[id(current)] = origin
            case.texts.append(f"{type(current).__name__}: {current}")
            case.sent += [ex for ex in sent_requests(current) if not any(
                (ex.method, ex.url, ex.status) == (seen.method, seen.url, seen.status) for seen in case.sent)]
            current = current.__cause__ or current.__context__
        case.bodies.extend(b for b in hidden_bodies(x) if b not in case.bodies)
    elif isinstance(x, Exchange):
        case.exchanges.append(x)
        if x.error:
            case.texts.append(x.error)
    elif isinstance(x, Capture):
        for ex in x:
            _add(case, ex, depth + 1)
    elif isinstance(x, warnings.WarningMessage):
        case.texts.append(f"{x.category.__name__}: {x.message}")
    elif isinstance(x, str):
        case.texts.append(x)
    elif isinstance(x, dict) and depth > 0:
        stall = x.get("max_stall_ms")
        if isinstance(stall, (int, float)) and stall < case.facts.get("max_stall_ms", -1.0):
            return  # several rows stalled: the longest stall (and its place) is the fact kept
        case.facts.update(x)
    elif isinstance(x, (list, tuple)) and depth == 0 and not _rows(x):
        for item in x:
            _add(case, item, depth + 1)
    else:
        case.results.append(x)
        if inspect.iscoroutine(x):
            case.texts.append(f"coroutine {x.__qualname__} (never awaited)")
        case.bodies.extend(hidden_bodies(x))


def _rows(x: Any) -> bool:
    return bool(x) and all(isinstance(i, dict) for i in x)


def _is_loop_watch(x: Any) -> bool:
    """A kit.watch_loop() or a LoopReport: read as data (its stalls and its threshold)."""
    return isinstance(getattr(x, "threshold_ms", None), (int, float)) and isinstance(
        getattr(x, "stalls", None), list) and not isinstance(x, (str, bytes, dict))


def _is_stall(x: Any) -> bool:
    """A kit.loop.Stall: its duration, its sampled sites and the line it is traced to."""
    return isinstance(getattr(x, "duration_ms", None), (int, float)) and hasattr(x, "sites") and \
        hasattr(x, "traced_to") and not isinstance(x, type)


def _add_stalls(case: Case, stalls: list[Any], threshold_ms: float | None) -> None:
    """Stalls (read by the loop explainers from their samples) and the facts they give: the
    threshold they were measured against and the longest stall with its place."""
    if threshold_ms is not None:
        case.facts["threshold_ms"] = threshold_ms
        case.facts.setdefault("max_stall_ms", 0.0)
    for stall in stalls:
        if all(stall is not seen for seen in case.stalls):
            case.stalls.append(stall)
    if case.stalls:
        worst = max(case.stalls, key=lambda s: s.duration_ms)
        case.facts.update(max_stall_ms=worst.duration_ms, stalled_at=worst.traced_to)

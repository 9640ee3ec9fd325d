"""Named pass/fail expectations, shared by diff reports, scenarios and the report runner.

    checks = Checks([Check("to_thread equals baseline", True),
                     Check("blocking stalls the loop", False, "max stall 3 ms < 80 ms",
                           figures={"max_stall_ms": 3.0})])
    checks.passed        # False
    kit.record(checks)   # in a notebook: hands them to the report runner (kit.report)

The report runner finds recorded checks in executed notebooks by the MIME type
``CHECKS_MIME`` in a cell's display outputs.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

CHECKS_MIME = "application/vnd.kit.checks+json"


@dataclass(frozen=True)
class Check:
    """One named expectation: ``Check("fixed variants return exact bytes", True)``."""

    name: str
    passed: bool
    detail: str = ""
    figures: dict[str, float] = field(default_factory=dict)
    expected_failure: bool = False  # a broken variant that fails as it should counts as passed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(name=str(data["name"]), passed=bool(data["passed"]),
                   detail=str(data.get("detail", "")), figures=dict(data.get("figures") or {}),
                   expected_failure=bool(data.get("expected_failure", False)))


class Checks:
    """An ordered collection of checks that displays itself as a pass/fail table."""

    def __init__(self, checks: Iterable[Check] = (), *, scenario: str = "") -> None:
        self.scenario = scenario
        self._checks = list(checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)

    def __getitem__(self, name: str) -> Check:
        for check in self._checks:
            if check.name == name:
                return check
        known = ", ".join(c.name for c in self._checks) or "(none)"
        raise KeyError(f"no check named {name!r}; known: {known}")

    def add(self, check: Check) -> None:
        self._checks.append(check)

    def extend(self, checks: Iterable[Check]) -> None:
        self._checks.extend(checks)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self._checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self._checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "checks": [c.to_dict() for c in self._checks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checks:
        return cls((Check.from_dict(c) for c in data.get("checks", [])),
                   scenario=str(data.get("scenario", "")))

    def __repr__(self) -> str:
        return f"<Checks {len(self)} checks, {len(self.failed)} failed>"

    def __str__(self) -> str:
        """Every check on its own line (``print(report.checks)``), as the notebook shows them."""
        return render_checks_text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": render_checks_text(self), "text/html": render_checks_html(self)}


def render_checks_text(checks: Checks) -> str:
    lines = [repr(checks)]
    lines += [f"  {'PASS' if c.passed else 'FAIL'}  {c.name}" + (f" — {c.detail}" if c.detail else "")
              for c in checks]
    return "\n".join(lines)


def render_checks_html(checks: Checks) -> str:
    rows = []
    for c in checks:
        colour = "#1a7f37" if c.passed else "#cf222e"
        verdict = "PASS" if c.passed else "FAIL"
        rows.append(f"<tr><td style='color:{colour};font-weight:bold'>{verdict}</td>"
                    f"<td>{html.escape(c.name)}</td><td>{html.escape(c.detail)}</td></tr>")
    title = html.escape(checks.scenario or "checks")
    return (f"<table class='kit-checks'><caption>{title}: {len(checks) - len(checks.failed)}"
            f"/{len(checks)} passed</caption><thead><tr><th>result</th><th>check</th>"
            f"<th>detail</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")

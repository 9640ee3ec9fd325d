"""Compare a report with an earlier one: what newly fails, newly passes, and moved figures.

    old = load_summary("reports/2026-11-20T10-00-00")
    comparison = compare(old, new)
    repr(comparison)   # '<Comparison 1 newly failing, 0 newly passing, 2 changed figures>'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import UsageError
from kit.report.results import ReportSummary

# A figure "changed" when it moved by more than this fraction of the old value and by
# more than FIGURE_FLOOR in absolute terms (stalls of 2 ms vs 3 ms are noise).
FIGURE_TOLERANCE = 0.25
FIGURE_FLOOR = 5.0


@dataclass(frozen=True)
class FigureChange:
    notebook: str
    check: str
    figure: str
    old: float
    new: float

    @property
    def ratio(self) -> float:
        return self.new / self.old if self.old else float("inf")


@dataclass
class Comparison:
    """Differences from a baseline report, shown at the top of ``index.html``."""

    baseline: str
    newly_failing: list[tuple[str, str]] = field(default_factory=list)  # (notebook, check)
    newly_passing: list[tuple[str, str]] = field(default_factory=list)
    figure_changes: list[FigureChange] = field(default_factory=list)
    newly_not_executed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "newly_failing": self.newly_failing,
                "newly_passing": self.newly_passing,
                "figure_changes": [vars(c) for c in self.figure_changes],
                "newly_not_executed": self.newly_not_executed}

    def __repr__(self) -> str:
        return (f"<Comparison {len(self.newly_failing)} newly failing, "
                f"{len(self.newly_passing)} newly passing, "
                f"{len(self.figure_changes)} changed figures>")


def load_summary(directory: str | Path) -> ReportSummary:
    """The ``summary.json`` of a report directory (``reports/latest`` works too)."""
    path = Path(directory) / "summary.json"
    try:
        return ReportSummary.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise UsageError(f"baseline {directory} has no summary.json",
                         fix="pass a report directory such as reports/latest") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"baseline {path} is not a kit report summary ({exc})",
                         fix="pass a directory written by `kit report`") from exc


def _changed(old: float, new: float, tolerance: float, floor: float) -> bool:
    return abs(new - old) > max(floor, tolerance * abs(old))


def compare(old: ReportSummary, new: ReportSummary, *, baseline: str = "",
            tolerance: float = FIGURE_TOLERANCE, floor: float = FIGURE_FLOOR) -> Comparison:
    """Checks that flipped and figures that moved between two reports (pure)."""
    result = Comparison(baseline=baseline or old.started)
    before = {(n.name, c.name): c for n in old.notebooks for c in n.checks}
    executed_before = {n.name for n in old.notebooks if n.executed}
    for notebook in new.notebooks:
        if not notebook.executed and notebook.name in executed_before:
            result.newly_not_executed.append(notebook.name)
        for check in notebook.checks:
            previous = before.get((notebook.name, check.name))
            if previous is None:
                continue
            if previous.passed and not check.passed:
                result.newly_failing.append((notebook.name, check.name))
            elif check.passed and not previous.passed:
                result.newly_passing.append((notebook.name, check.name))
            for figure, value in sorted(check.figures.items()):
                if figure in previous.figures and _changed(previous.figures[figure], value,
                                                           tolerance, floor):
                    result.figure_changes.append(FigureChange(
                        notebook.name, check.name, figure, previous.figures[figure], value))
    return result

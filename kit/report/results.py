"""What a report found: one ``NotebookResult`` per notebook, gathered in a ``ReportSummary``.

    summary = ReportSummary.from_dict(json.loads(Path("reports/latest/summary.json").read_text()))
    summary.exit_code      # 0 all passed, 1 a check failed, 2 a notebook failed to execute
    repr(summary)          # '<ReportSummary 5 notebooks, 23 checks, 1 failed, 0 not executed>'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kit.checks import CHECKS_MIME, Check

EXIT_OK, EXIT_CHECK_FAILED, EXIT_NOT_EXECUTED, EXIT_USAGE = 0, 1, 2, 3

# How a notebook run ended (the worker reports it); anything but EXECUTED makes the report exit 2.
from kit.report.worker import (
    CELL_ERROR,
    EXECUTED,
    KERNEL_DIED,
    RUNNER_CRASHED,
    STATUSES,
    TIMED_OUT,
)

__all__ = ["CELL_ERROR", "EXECUTED", "EXIT_CHECK_FAILED", "EXIT_NOT_EXECUTED", "EXIT_OK",
           "EXIT_USAGE", "KERNEL_DIED", "RUNNER_CRASHED", "STATUSES", "TIMED_OUT",
           "NotebookResult", "ReportSummary", "recorded_checks"]


@dataclass
class NotebookResult:
    """One notebook's run: how it ended, its checks, and the files written for it."""

    name: str
    status: str
    duration_s: float
    checks: list[Check] = field(default_factory=list)
    error: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    scenario: str = ""
    files: dict[str, str] = field(default_factory=dict)  # kind ("ipynb", "html") -> relative path

    @property
    def executed(self) -> bool:
        return self.status == EXECUTED

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [c.to_dict() for c in self.checks]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NotebookResult:
        fields = dict(data)
        fields["checks"] = [Check.from_dict(c) for c in data.get("checks", [])]
        return cls(**fields)

    def __repr__(self) -> str:
        return (f"<NotebookResult {self.name} {self.status}, {len(self.checks)} checks, "
                f"{len(self.failed_checks)} failed, {self.duration_s:.1f} s>")


@dataclass
class ReportSummary:
    """A whole report: the environment it ran in and every notebook's result."""

    profile: str
    target: dict[str, Any]
    versions: dict[str, str]
    started: str
    duration_s: float
    notebooks: list[NotebookResult] = field(default_factory=list)

    @property
    def checks_total(self) -> int:
        return sum(len(n.checks) for n in self.notebooks)

    @property
    def checks_failed(self) -> int:
        return sum(len(n.failed_checks) for n in self.notebooks)

    @property
    def not_executed(self) -> list[NotebookResult]:
        return [n for n in self.notebooks if not n.executed]

    @property
    def exit_code(self) -> int:
        if self.not_executed:
            return EXIT_NOT_EXECUTED
        return EXIT_CHECK_FAILED if self.checks_failed else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "target": self.target, "versions": self.versions,
                "started": self.started, "duration_s": self.duration_s,
                "exit_code": self.exit_code, "checks_total": self.checks_total,
                "checks_failed": self.checks_failed,
                "notebooks": [n.to_dict() for n in self.notebooks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportSummary:
        return cls(profile=data["profile"], target=dict(data["target"]),
                   versions=dict(data["versions"]), started=data["started"],
                   duration_s=float(data["duration_s"]),
                   notebooks=[NotebookResult.from_dict(n) for n in data["notebooks"]])

    def __repr__(self) -> str:
        return (f"<ReportSummary {len(self.notebooks)} notebooks, {self.checks_total} checks, "
                f"{self.checks_failed} failed, {len(self.not_executed)} not executed>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from kit.report.render import render_summary_html, render_summary_text

        return {"text/plain": render_summary_text(self), "text/html": render_summary_html(self)}


def recorded_checks(nb: Any) -> tuple[str, list[Check]]:
    """The scenario name and checks a notebook recorded with ``kit.record`` (in cell order)."""
    scenario, checks = "", list[Check]()
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {}) if output.get("output_type") in (
                "display_data", "execute_result") else {}
            payload = data.get(CHECKS_MIME)
            if isinstance(payload, dict):
                scenario = scenario or str(payload.get("scenario", ""))
                checks.extend(Check.from_dict(c) for c in payload.get("checks", []))
    return scenario, checks

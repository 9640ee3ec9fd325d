"""What ``kit doctor`` found: one ``DoctorCheck`` per question, gathered in a ``DoctorReport``.

    report = kit.doctor("path/to/app")
    report                    # a table in a notebook; str(report) is the full text
    report.exit_code          # 0 nothing failed, 1 a check failed, 2 a check could not run
    report.failed             # [DoctorCheck(section='packages', status='fail', ...), ...]

The model knows nothing of its views: ``kit.doctor.render`` imports it, never the reverse
(the display methods import the renderer when called).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ERROR", "FAIL", "INFO", "OK", "STATUSES", "WARN", "DoctorCheck", "DoctorOptions", "DoctorReport"]

# How bad a check's finding is; ERROR means the check itself could not run.
OK, INFO, WARN, FAIL, ERROR = "ok", "info", "warn", "fail", "error"
STATUSES = (OK, INFO, WARN, FAIL, ERROR)
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class DoctorOptions:
    """How far the doctor reaches: the app's health URL, seconds per HTTP probe, network or not."""

    health: str | None = None
    timeout: float = 5.0
    reachability: bool = True


@dataclass(frozen=True)
class DoctorCheck:
    """One answer: ``DoctorCheck("packages", "imports", "fail", "psycopg2 (main.py:3) ...", "pip ...")``.

    ``evidence`` says what was seen, ``fix`` what to do, ``where`` a ``file:line`` when the
    finding has one. Every text passes through ``kit.secrets`` (JWTs, keys, token fields and
    URL passwords masked) when the check is made.
    """

    section: str
    name: str
    status: str
    evidence: str
    fix: str = ""
    where: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; known: {', '.join(STATUSES)}")
        from kit.secrets import mask_url

        for name in ("name", "evidence", "fix", "where"):  # the last guard: no key or token leaves
            object.__setattr__(self, name, mask_url(getattr(self, name)))

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class DoctorReport:
    """Every check the doctor ran on one app, plus the command that runs the app cleanly."""

    path: str
    checks: list[DoctorCheck] = field(default_factory=list)
    run_command: str = ""
    lowest_python: str = ""

    def by_status(self, *statuses: str) -> list[DoctorCheck]:
        return [c for c in self.checks if c.status in statuses]

    @property
    def failed(self) -> list[DoctorCheck]:
        return self.by_status(FAIL)

    @property
    def errors(self) -> list[DoctorCheck]:
        return self.by_status(ERROR)

    def section(self, name: str) -> list[DoctorCheck]:
        return [c for c in self.checks if c.section == name]

    def find(self, section: str, name: str) -> list[DoctorCheck]:
        """Checks of one section whose name starts with ``name``: ``find("reachability", "health")``."""
        return [c for c in self.checks if c.section == section and c.name.startswith(name)]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_ERROR
        return EXIT_FAILED if self.failed else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "exit_code": self.exit_code, "run_command": self.run_command,
                "lowest_python": self.lowest_python,
                "counts": {s: len(self.by_status(s)) for s in STATUSES},
                "checks": [c.to_dict() for c in self.checks]}

    def __repr__(self) -> str:
        return (f"<DoctorReport {self.path}: {len(self.checks)} checks, {len(self.failed)} failed, "
                f"{len(self.by_status(WARN))} warnings, {len(self.errors)} could not run>")

    def __str__(self) -> str:
        from kit.doctor.render import render_text

        return render_text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from kit.doctor.render import render_html, render_text

        return {"text/plain": render_text(self), "text/html": render_html(self)}

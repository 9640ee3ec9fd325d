"""The result of a scan: findings and parse problems that display themselves.

    result = kit.scan("app/")
    result                   # a table with source excerpts in a notebook
    result.to_frame()        # a pandas DataFrame (pandas imported on use)
    result.exit_code         # 0 clean, 1 findings, 2 a file could not be parsed
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from kit.scan.model import Finding, Notice, ParseProblem

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FRAME_COLUMNS = ["path", "cell", "line", "col", "code", "confidence", "message", "fix", "source"]


class ScanResult:
    """Findings (sorted by place), parse problems, and how many files were scanned."""

    def __init__(self, findings: list[Finding], problems: list[ParseProblem], *,
                 files_scanned: int, codes: list[str], notices: list[Notice] | None = None) -> None:
        self.findings = findings
        self.problems = problems
        self.notices = notices or []
        self.files_scanned = files_scanned
        self.codes = codes

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def __getitem__(self, index: int) -> Finding:
        return self.findings[index]

    @property
    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(f.code for f in self.findings).items()))

    @property
    def exit_code(self) -> int:
        """2 if a file could not be parsed (even with findings), else 1 with findings, else 0."""
        if self.problems:
            return EXIT_ERROR
        return EXIT_FINDINGS if self.findings else EXIT_CLEAN

    def render(self, name: str = "text") -> str:
        from kit.scan.formats import render

        return render(self, name)

    def to_frame(self) -> Any:
        import pandas as pd

        rows = [{c: getattr(f, c) for c in FRAME_COLUMNS} for f in self.findings]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.render("text"), "text/html": self.render("html")}

    def __repr__(self) -> str:
        counts = ", ".join(f"{code}×{n}" for code, n in self.counts.items())
        return (f"<ScanResult {self.files_scanned} files, {len(self.findings)} findings"
                f"{f' ({counts})' if counts else ''}, {len(self.problems)} parse errors>")

"""The scanner's values: rules (on a registry), findings and parse problems.

    RULES["KIT102"].title          # 'sync supabase call inside async def'
    RULES.select(["KIT1"], ["KIT104"])   # codes by prefix, minus the ignored ones
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kit.errors import UsageError

NOTEBOOKS = {
    "general": "notebooks/00_start_here.ipynb",
    "storage": "notebooks/01_storage_download.ipynb",  # seeds/002
    "memory": "notebooks/02_memory_queue.ipynb",  # seeds/001
    "logging": "notebooks/03_llm_logging.ipynb",  # seeds/000
}


class UnknownRule(UsageError):
    """A rule code (in --select, --ignore or a registry lookup) that no rule has."""


@dataclass(frozen=True)
class Rule:
    """One scan rule: its code, what it catches, the fix, and the notebook that shows it."""

    code: str
    name: str
    title: str
    fix: str
    notebook: str
    level: str  # SARIF level of a high-confidence finding: "error" | "warning"
    events: tuple[str, ...]  # which walker events it checks
    check: Callable[..., Iterable[Any]] = field(repr=False, compare=False)

    @property
    def help_uri(self) -> str:
        return self.notebook

    @property
    def help_url(self) -> str:
        """An absolute URI of the page that documents the rule (for SARIF ``helpUri``)."""
        return docs_url(self.notebook)


def docs_url(page: str) -> str:
    """``KIT_DOCS_URL`` (e.g. ``https://github.com/org/kit/blob/main/``) joined with a page of
    the project, else the page's ``file:`` URI in the checkout the kit runs from."""
    base = os.environ.get("KIT_DOCS_URL", "")
    if base:
        return base.rstrip("/") + "/" + quote(page)
    return (Path(__file__).resolve().parents[2] / page).as_uri()


class RuleRegistry:
    """Rules by code; an unknown code raises UnknownRule listing the known ones."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> Rule:
        if rule.code in self._rules:
            raise ValueError(f"rule {rule.code} is registered twice")
        self._rules[rule.code] = rule
        return rule

    def __getitem__(self, code: str) -> Rule:
        try:
            return self._rules[code]
        except KeyError:
            raise UnknownRule(f"unknown rule {code!r}",
                              fix=f"use one of {', '.join(self._rules)}") from None

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    @property
    def codes(self) -> list[str]:
        return list(self._rules)

    def expand(self, patterns: Iterable[str]) -> set[str]:
        """Codes matching each pattern (an exact code or a prefix such as ``KIT1``)."""
        chosen: set[str] = set()
        for raw in patterns:
            pattern = raw.strip().upper()
            if not pattern:
                continue
            matched = {c for c in self._rules if c.startswith(pattern)}
            if not matched:
                raise UnknownRule(f"unknown rule {raw!r}",
                                  fix=f"use one of {', '.join(self._rules)} (or a prefix)")
            chosen |= matched
        return chosen

    def select(self, select: Iterable[str] | None = None,
               ignore: Iterable[str] | None = None) -> frozenset[str]:
        chosen = self.expand(select) if select else set(self._rules)
        return frozenset(chosen - self.expand(ignore or ()))


RULES = RuleRegistry()


@dataclass(frozen=True)
class Finding:
    """One finding; ``line``/``col`` are 1-based; in a notebook, ``cell`` is the 1-based index
    of the cell among all cells and ``line`` the line inside that cell."""

    path: str
    line: int
    col: int
    code: str
    message: str
    fix: str
    confidence: str = "high"  # "high" | "low" (naming heuristic)
    cell: int | None = None
    source: str = ""  # the source line, stripped
    edit: str = ""  # the rewrite `kit scan --fix` applies ("" when none is safe)
    end_line: int = 0  # end of the rewritten node (1-based line, 1-based character column)
    end_col: int = 0
    # a notebook's finding: (line, col, end line, end col) in the .ipynb file's own text (the
    # JSON), where SARIF points; None when it cannot be said exactly (kit.scan.cell_positions)
    file_region: tuple[int, int, int, int] | None = None

    @property
    def location(self) -> str:
        if self.cell is not None:
            return f"{self.path}:cell {self.cell} line {self.line}:{self.col}"
        return f"{self.path}:{self.line}:{self.col}"

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["help_uri"] = RULES[self.code].help_uri
        return data


@dataclass(frozen=True)
class Notice:
    """A file the scan skipped on purpose (dangling symlink, FIFO, a notebook of another
    kernel): reported, and it does not change the exit code."""

    path: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ParseProblem:
    """A file (or notebook cell) that could not be parsed; the scan went on without it."""

    path: str
    line: int
    col: int
    message: str
    cell: int | None = None
    file_region: tuple[int, int, int, int] | None = None  # as Finding.file_region

    @property
    def location(self) -> str:
        if self.cell is not None:
            return f"{self.path}:cell {self.cell} line {self.line}:{self.col}"
        return f"{self.path}:{self.line}:{self.col}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

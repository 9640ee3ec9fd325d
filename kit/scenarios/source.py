"""Broken and fixed code side by side, taken from the scenario modules themselves.

    kit.scenarios.source_diff(BrokenAdCreationService.download_image,
                              ToThreadAdCreationService.download_image)
"""

from __future__ import annotations

import difflib
import html
import inspect
import re
import textwrap
from dataclasses import dataclass
from typing import Any


def source_of(obj: Any) -> str:
    """Dedented source of a function, method or class."""
    return textwrap.dedent(inspect.getsource(obj)).rstrip() + "\n"


def changed_lines(before: str, after: str) -> tuple[set[int], set[int]]:
    """1-based line numbers that differ, in ``before`` and in ``after``."""
    old, new = before.splitlines(), after.splitlines()
    removed: set[int] = set()
    added: set[int] = set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed.update(range(i1 + 1, i2 + 1))
            added.update(range(j1 + 1, j2 + 1))
    return removed, added


def _highlight(code: str) -> list[str]:
    """One HTML fragment per line, syntax-highlighted when pygments is available."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # plain, escaped text still reads fine
        return [html.escape(line) for line in code.splitlines()]
    formatter = HtmlFormatter(nowrap=True, noclasses=True, style="friendly")
    return highlight(code, PythonLexer(), formatter).rstrip("\n").split("\n")


_TAG = re.compile(r"(<[^>]+>)")


def keep_spaces(fragment: str) -> str:
    """``fragment`` with every whitespace-only text node between tags as ``&nbsp;``.

    nbconvert's HTML export collapses such a node to one space, ``white-space:pre`` or not, so
    the indentation before a highlighted keyword (``    <span>raise</span>``) was lost in the
    report; a text node with other characters keeps its spaces and is left as it is."""
    parts = _TAG.split(fragment)
    return "".join(part.replace(" ", "&nbsp;") if not part.startswith("<") and part.strip(" ") == ""
                   else part for part in parts)


def render_code_column(title: str, code: str, marked: set[int], colour: str) -> str:
    """One side of a before/after panel: numbered lines, ``marked`` ones on ``colour``; long
    lines scroll inside the panel (``overflow-x:auto``), indentation survives nbconvert."""
    rows = []
    for number, line in enumerate(map(keep_spaces, _highlight(code)), start=1):
        background = f"background:{colour};" if number in marked else ""
        sign = "▌" if number in marked else "&nbsp;"
        rows.append(f"<div style='{background}white-space:pre;font-family:monospace;font-size:12px'>"
                    f"<span style='color:#888;user-select:none'>{number:>3} {sign}</span>{line}</div>")
    return (f"<div style='flex:1;min-width:0;overflow-x:auto;border:1px solid #ddd;padding:4px'>"
            f"<div style='font-weight:bold;margin-bottom:4px'>{html.escape(title)}</div>"
            f"{''.join(rows)}</div>")


def render_source_diff_html(before: str, after: str, before_title: str, after_title: str) -> str:
    removed, added = changed_lines(before, after)
    return ("<div class='kit-source-diff' style='display:flex;gap:8px'>"
            + render_code_column(before_title, before, removed, "#ffebe9")
            + render_code_column(after_title, after, added, "#dafbe1") + "</div>")


def render_source_diff_text(before: str, after: str, before_title: str, after_title: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        fromfile=before_title, tofile=after_title))


@dataclass(frozen=True)
class SourceDiff:
    """Two pieces of code, shown side by side with the changed lines marked."""

    before: str
    after: str
    before_title: str = "broken"
    after_title: str = "fixed"

    @classmethod
    def of(cls, before: Any, after: Any, before_title: str | None = None,
           after_title: str | None = None) -> SourceDiff:
        return cls(source_of(before), source_of(after),
                   before_title or str(getattr(before, "__qualname__", "broken")),
                   after_title or str(getattr(after, "__qualname__", "fixed")))

    @property
    def changed(self) -> tuple[set[int], set[int]]:
        return changed_lines(self.before, self.after)

    def __repr__(self) -> str:
        removed, added = self.changed
        return f"<SourceDiff {self.before_title} → {self.after_title}: -{len(removed)} +{len(added)} lines>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": render_source_diff_text(self.before, self.after, self.before_title,
                                                      self.after_title),
                "text/html": render_source_diff_html(self.before, self.after, self.before_title,
                                                     self.after_title)}


def source_diff(before: Any, after: Any) -> SourceDiff:
    """Side-by-side diff of two functions or classes: ``source_diff(Broken.f, Fixed.f)``."""
    return SourceDiff.of(before, after)

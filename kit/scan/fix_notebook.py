"""``kit scan --fix`` / ``--diff`` on a Jupyter notebook: the same libcst rewrites as a .py
file (kit.scan.fix), made cell by cell, everything else in the notebook kept.

    text, applied = fix_notebook(notebook_json, findings, "nb.ipynb")   # pure
    cell_diff("nb.ipynb", before_json, after_json)                       # what --diff prints

Cells run in one kernel namespace, so the name for ``asyncio.to_thread`` is looked up in every
code cell together (an ``import asyncio`` in cell 1 serves cell 5); when no cell has one, the
first fixed cell that needs it gets ``import asyncio``. Top-level ``await`` is valid in a cell
and compiles as such. A cell with IPython syntax (``%magic``, ``!shell``, ``x?``) or under a
cell magic is never rewritten: libcst cannot parse it, so its findings remain, and
``kit scan --fix`` / ``--diff`` name the cell and the syntax. The notebook is
read and written with nbformat (what Jupyter itself uses: indent 1, sorted keys); outputs,
metadata and the other cells are not touched.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable

import libcst as cst
import nbformat

from kit.scan.fix import edits_of, rewrite
from kit.scan.imports import to_thread_name
from kit.scan.model import Finding
from kit.scan.notebook import NotebookSource, neutralise

__all__ = ["cell_diff", "fix_notebook", "ipython_syntax"]


def ipython_syntax(source: str) -> str:
    """The first IPython-only syntax of a cell (``%%capture``, ``%time``, ``!pip``, ``obj?``),
    "" when the cell is plain Python (so libcst can rewrite it)."""
    first = source.lstrip()
    if first.startswith("%%"):
        return first.split(None, 1)[0]
    for line in source.split("\n"):
        if neutralise(line) != line:
            stripped = line.strip()
            if stripped[0] not in "%!?" and not stripped.endswith("?"):  # `files = !ls`
                stripped = stripped.partition("=")[2].strip()
            return stripped.split(None, 1)[0][:40]
    return ""


def fix_notebook(text: str, findings: Iterable[Finding], path: str,
                 skipped: dict[int, str] | None = None) -> tuple[str, int]:
    """The notebook's JSON with the findings' edits applied to their cells, and how many were;
    ``text`` unchanged (0) when nothing could be applied. A cell with fixable findings that is
    not rewritten for its IPython syntax goes into ``skipped`` (cell number -> the syntax).
    Raises ``nbformat.reader.NotJSONError`` or ``ValueError`` for a file that is not a notebook
    (the scan reports those before)."""
    notebook = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    by_cell: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.cell is not None and finding.edit and finding.end_line:
            by_cell.setdefault(finding.cell, []).append(finding)
    try:
        known = to_thread_name(cst.parse_module(NotebookSource.from_json(text, path).source))
    except cst.ParserSyntaxError:
        known = None
    applied = 0
    for number in sorted(by_cell):
        cell = notebook.cells[number - 1]
        syntax = ipython_syntax(cell.source) if cell.cell_type == "code" else ""
        if syntax and skipped is not None:
            skipped[number] = syntax
        if cell.cell_type != "code" or syntax:
            continue
        new, count = rewrite(cell.source, edits_of(by_cell[number]), f"{path} cell {number}",
                             to_thread=known, flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if count:
            cell.source = new
            applied += count
            known = known or to_thread_name(cst.parse_module(new))  # this cell's import serves the rest
    if not applied:
        return text, 0
    return nbformat.writes(notebook) + ("\n" if text.endswith("\n") else ""), applied


def cell_diff(path: str, before: str, after: str) -> str:
    """A unified diff per changed code cell, headed ``<path>:cell N`` (as ruff shows a
    notebook), instead of a diff of the JSON."""
    old, new = (nbformat.reads(t, as_version=nbformat.NO_CONVERT).cells for t in (before, after))
    parts: list[str] = []
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a.get("source") != b.get("source"):
            name = f"{path}:cell {number}"
            parts.extend(difflib.unified_diff((a.source + "\n").splitlines(keepends=True),
                                              (b.source + "\n").splitlines(keepends=True), name, name))
    return "".join(parts)

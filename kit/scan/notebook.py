"""Code cells of a Jupyter notebook as one module, with lines mapped back to cells.

    nb = NotebookSource.from_json(text)
    tree, bad_cells = nb.parse("demo.ipynb")   # cells that do not parse are left out
    nb.locate(12)                              # (3, 2): cell 3, line 2

Cells share one namespace in a kernel, so they are joined into one module (a client made in
cell 2 is known in cell 5). IPython magics and ``!`` shell lines become ``pass`` (indentation
kept); a cell under a Python cell magic (``%%time``, ``%%capture``...) keeps its code, a cell of
another language (``%%bash``, ``%%sql``...) is left out. Top-level ``await`` parses as it is.
A notebook whose kernel is not Python raises OtherKernel (the scan skips it with a notice).
"""

from __future__ import annotations

import ast
import bisect
import json
from dataclasses import dataclass

from kit.errors import UsageError
from kit.scan.grammar import parse_source


class NotebookError(UsageError):
    """A .ipynb file that is not a notebook (bad JSON or no cells)."""


class OtherKernel(NotebookError):
    """A notebook whose kernel runs another language (R, Julia, Deno...)."""


# IPython cell magics whose cell body is Python code run by the kernel
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "memit", "mprun",
                                "debug", "python", "python3", "ipython", "snakeviz"})


def _language(data: dict) -> str:
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        return "python"
    kernel = metadata.get("kernelspec") or {}
    info = metadata.get("language_info") or {}
    language = (kernel.get("language") if isinstance(kernel, dict) else None) or (
        info.get("name") if isinstance(info, dict) else None)
    return str(language or "python").lower()


def neutralise(line: str) -> str:
    stripped = line.lstrip()
    if not stripped:
        return line
    indent = line[: len(line) - len(stripped)]
    if stripped[0] in "%!?" or (stripped.endswith("?")
                                 and stripped.rstrip("?").replace(".", "").isidentifier()):
        return f"{indent}pass"
    head, sep, tail = line.partition("=")
    if sep and tail.lstrip()[:1] in ("!", "%") and head.strip().isidentifier():
        return f"{head}= None"
    return line


@dataclass
class NotebookSource:
    """Joined code-cell source; ``cells`` holds (cell number among all cells, first line)."""

    lines: list[str]
    cells: list[tuple[int, int]]

    @classmethod
    def from_json(cls, text: str, path: str = "notebook") -> NotebookSource:
        try:
            data = json.loads(text)
            raw_cells = data["cells"]
        except (ValueError, KeyError, TypeError) as exc:
            raise NotebookError(f"{path} is not a Jupyter notebook ({exc.__class__.__name__})",
                                fix="pass a .ipynb file saved by Jupyter (nbformat 4)") from exc
        language = _language(data) if isinstance(data, dict) else "python"
        if language not in ("python", "python3", "ipython", "ipython3"):
            raise OtherKernel(f"{path} is a {language} notebook: skipped",
                              fix="kit scan reads Python notebooks only")
        lines: list[str] = []
        cells: list[tuple[int, int]] = []
        for number, cell in enumerate(raw_cells, start=1):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            text_lines = ("".join(source) if isinstance(source, list) else str(source)).split("\n")
            cells.append((number, len(lines) + 1))
            first = text_lines[0].lstrip()
            if first.startswith("%%"):
                magic = first[2:].split(None, 1)[0] if first[2:].strip() else ""
                if magic in PYTHON_CELL_MAGICS:
                    lines.append("")
                    lines.extend(neutralise(line) for line in text_lines[1:])
                else:
                    lines.extend("" for _ in text_lines)
            else:
                lines.extend(neutralise(line) for line in text_lines)
        return cls(lines, cells)

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    def locate(self, line: int) -> tuple[int, int]:
        """(cell number, line in cell) of a 1-based line of the joined source."""
        index = bisect.bisect_right([start for _, start in self.cells], line) - 1
        number, start = self.cells[max(index, 0)]
        return number, line - start + 1

    def _blank_cell(self, line: int) -> None:
        index = bisect.bisect_right([start for _, start in self.cells], line) - 1
        start = self.cells[index][1]
        end = self.cells[index + 1][1] if index + 1 < len(self.cells) else len(self.lines) + 1
        for i in range(start - 1, end - 1):
            self.lines[i] = ""

    def parse(self, path: str) -> tuple[ast.Module, list[tuple[int, int, int, str]]]:
        """The module of every cell that parses, and (cell, line, col, message) for the rest."""
        problems: list[tuple[int, int, int, str]] = []
        for _ in range(len(self.cells) + 1):
            try:
                return parse_source(self.source, path), problems
            except SyntaxError as exc:
                line = exc.lineno or 1
                cell, cell_line = self.locate(line)
                problems.append((cell, cell_line, exc.offset or 1, exc.msg))
                self._blank_cell(line)
        return ast.Module(body=[], type_ignores=[]), problems

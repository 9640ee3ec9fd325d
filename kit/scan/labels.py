"""Expected findings written as comments, for labelled corpora (tests/scan_corpus/).

    x = client.table("t").select("*").execute()  # expect: KIT102
    y = ...                                      # expect: KIT102:low, KIT104
    # expect: none            (a file, or a line, that must stay clean)

    read_labels(Path("seed002_broken.py"))   # ({(None, 13, "KIT104", "high"), ...}, True)

Notebook labels are keyed by (cell number among all cells, line in cell), like findings.
"""

from __future__ import annotations

import json
from pathlib import Path

Label = tuple[int | None, int, str, str]  # (cell, line, code, confidence)
MARK = "# expect:"


def _labels_in(lines: list[str], cell: int | None) -> tuple[set[Label], bool]:
    labels: set[Label] = set()
    marked = False
    for number, line in enumerate(lines, start=1):
        if MARK not in line:
            continue
        marked = True
        for item in line.split(MARK, 1)[1].split(","):
            item = item.strip()
            if item and item != "none":
                code, _, confidence = item.partition(":")
                labels.add((cell, number, code, confidence or "high"))
    return labels, marked


def read_labels(path: Path) -> tuple[set[Label], bool]:
    """The labelled findings of a file, and whether it carries any label at all."""
    if path.suffix != ".ipynb":
        return _labels_in(path.read_text(encoding="utf-8").splitlines(), None)
    labels: set[Label] = set()
    marked = False
    for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"], start=1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else source
            found, cell_marked = _labels_in(text.split("\n"), number)
            labels |= found
            marked = marked or cell_marked
    return labels, marked

"""Where a notebook cell's text sits in the .ipynb file itself (the JSON), for SARIF viewers
that open the raw file: cell 3, line 2, column 5 → line 41, column 13 of the JSON text.

    positions = CellPositions(ipynb_text)
    positions.locate(3, 2, 5)        # (41, 13), or None when it cannot be said exactly

A cell's ``source`` is a list of strings (one per line, as nbformat writes it) or one string;
each is a JSON string literal whose escapes (``\\"``, ``\\n``, ``\\u00e9``, a surrogate pair
for one character) take more room in the file than in the cell, so a column is mapped by
walking the literal escape by escape. Columns count characters (SARIF ``unicodeCodePoints``).
The file is read with the standard library's JSON scanner; only the path to
``cells[n].source`` is walked, everything else (outputs, images) is skipped by the C decoder.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C scanner json uses

__all__ = ["CellPositions"]

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
Literal = tuple[int, str]  # (offset in the file of the literal's first character, its text)


class CellPositions:
    """The source literals of every cell of one notebook's JSON text (cell numbers are
    1-based among all cells, as kit.scan.notebook numbers them)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cells: dict[int, list[Literal]] = {}
        try:
            self._value(0, ())
        except (ValueError, IndexError, KeyError):
            self.cells = {}  # not the JSON we expect: no positions rather than wrong ones

    def locate(self, cell: int, line: int, col: int, *, end: bool = False) -> tuple[int, int] | None:
        """(line, column) in the file of the character at ``line``/``col`` of the cell (both
        1-based); ``end=True`` for an exclusive end position. None when out of range."""
        literals = self.cells.get(cell)
        if not literals or line < 1 or col < 1:
            return None
        lines = "".join(text for _, text in literals).split("\n")
        if line > len(lines) or col - 1 > len(lines[line - 1]):
            return None
        index = sum(len(text) + 1 for text in lines[: line - 1]) + col - 1
        start = 0
        for offset, text in literals:
            if start <= index < start + len(text) or (end and index == start + len(text)):
                at = self._file_offset(offset, index - start)
                before = self.text.rfind("\n", 0, at) + 1
                return self.text.count("\n", 0, at) + 1, at - before + 1
            start += len(text)
        return None

    def _file_offset(self, offset: int, characters: int) -> int:
        text, at = self.text, offset
        for _ in range(characters):
            if text[at] != "\\":
                at += 1
            elif text[at + 1] != "u":
                at += 2
            else:
                high = int(text[at + 2:at + 6], 16)
                at += 6
                if 0xD800 <= high < 0xDC00 and text[at:at + 2] == "\\u" and \
                        0xDC00 <= int(text[at + 2:at + 6], 16) < 0xE000:
                    at += 6  # a surrogate pair decodes to one character
        return at

    def _value(self, at: int, path: tuple[object, ...]) -> int:
        """Walk the value at ``at``; returns the offset after it."""
        text = self.text
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        depth = len(path)
        if not (depth < 3 and path[:1] in ((), ("cells",)) or depth in (3, 4) and path[2] == "source"):
            return _DECODER.raw_decode(text, at)[1]  # not on the way to a cell's source
        char = text[at]
        if char == "{":
            return self._members(at + 1, path, "}", keyed=True)
        if char == "[":
            return self._members(at + 1, path, "]", keyed=False)
        if char == '"':
            value, after = scanstring(text, at + 1)
            if depth >= 3:  # cells[n].source, or one line of it
                self.cells.setdefault(int(path[1]) + 1, []).append((at + 1, value))  # type: ignore[call-overload]
            return after
        return _DECODER.raw_decode(text, at)[1]

    def _members(self, at: int, path: tuple[object, ...], close: str, *, keyed: bool) -> int:
        text = self.text
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at] == close:
            return at + 1
        index = 0
        while True:
            key: object = index
            if keyed:
                at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
                key, at = scanstring(text, at + 1)
                at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
                if text[at] != ":":
                    raise ValueError("expected ':'")
                at += 1
            at = _SPACE.match(text, self._value(at, (*path, key))).end()  # type: ignore[union-attr]
            index += 1
            if text[at] == close:
                return at + 1
            if text[at] != ",":
                raise ValueError(f"expected ',' or {close!r}")
            at += 1

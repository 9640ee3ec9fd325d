"""Hypothesis strategies for each class of hostile input, and how each goes on the wire.

A ``Hostile`` value knows its JSON token (the bytes put in a body where a field's value goes,
unescaped where JSON cannot say it: invalid UTF-8, nesting, huge numbers) and its raw bytes
(percent-encoded into a path segment or a query value). The classes, as the issue names them:

    nul           text with a NUL byte
    surrogate     text with a lone UTF-16 surrogate (invalid UTF-8 on the wire)
    invalid_utf8  bytes that are not UTF-8
    deep_json     arrays and objects nested 100 to 20,000 levels
    huge_int      integers past int32, int64 and any float, and 1e400
    oversized     values of 17 to 40 KB (a URL past the edge's 16 KB, a header past 32 KB)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

CLASSES = ("nul", "surrogate", "invalid_utf8", "deep_json", "huge_int", "oversized")


@dataclass(frozen=True)
class Hostile:
    kind: str
    token: bytes  # what goes into a JSON body in place of a value
    raw: bytes  # what goes, percent-encoded, into a path segment or a query value

    @property
    def quoted(self) -> str:
        return quote_from_bytes(self.raw, safe="")

    def __repr__(self) -> str:
        return f"Hostile({self.kind}, {self.raw[:40]!r}{'…' if len(self.raw) > 40 else ''})"


_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)


def _nul() -> st.SearchStrategy[Hostile]:
    return st.tuples(_text, _text).map(lambda p: p[0] + "\x00" + p[1]).map(
        lambda t: Hostile("nul", json.dumps(t).encode(), t.encode()))


def _surrogate() -> st.SearchStrategy[Hostile]:
    lone = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    return st.tuples(_text, lone, _text).map("".join).map(
        lambda t: Hostile("surrogate", json.dumps(t).encode(), t.encode("utf-8", "surrogatepass")))


def _invalid_utf8() -> st.SearchStrategy[Hostile]:
    bad = st.sampled_from([b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xe2\x82", b"\xed\xa0\x80", b"\x80"])
    return st.tuples(st.binary(max_size=4).filter(lambda b: b"\"" not in b and b"\\" not in b),
                     bad).map(lambda p: p[0] + p[1]).map(
        lambda b: Hostile("invalid_utf8", b'"' + b + b'"', b))


def _deep_json() -> st.SearchStrategy[Hostile]:
    def nested(args: tuple[int, bool]) -> Hostile:
        depth, objects = args
        token = (b'{"a":' * depth + b"1" + b"}" * depth) if objects else (b"[" * depth + b"]" * depth)
        return Hostile("deep_json", token, token[:2000])
    return st.tuples(st.sampled_from([100, 129, 1000, 5000, 20000]), st.booleans()).map(nested)


def _huge_int() -> st.SearchStrategy[Hostile]:
    numbers = st.one_of(st.integers(2**31, 2**31 + 10), st.integers(2**63, 2**63 + 10),
                        st.integers(10**20, 10**40), st.integers(-(10**40), -(2**31) - 1))
    as_text = st.one_of(numbers.map(str), st.sampled_from(["1e400", "-1e400", "1" + "0" * 400]))
    return as_text.map(lambda t: Hostile("huge_int", t.encode(), t.encode()))


def _oversized() -> st.SearchStrategy[Hostile]:
    return st.sampled_from([17 * 1024, 40 * 1024]).map(
        lambda n: Hostile("oversized", json.dumps("x" * n).encode(), b"x" * n))


STRATEGIES = {"nul": _nul(), "surrogate": _surrogate(), "invalid_utf8": _invalid_utf8(),
              "deep_json": _deep_json(), "huge_int": _huge_int(), "oversized": _oversized()}
HOSTILE_INPUT = st.sampled_from(CLASSES).flatmap(lambda kind: STRATEGIES[kind])


def json_body(fields: dict[str, object], hostile_field: str | None, value: Hostile) -> bytes:
    """A JSON object of ``fields`` with ``hostile_field`` (a dotted path: ``sortBy.column``)
    replaced by the hostile token (appended to it when it is an array), spliced in as raw bytes."""
    placeholder = "\u2603KIT-HOSTILE\u2603"
    body: dict[str, object] = json.loads(json.dumps(fields))
    if hostile_field:
        *parents, last = hostile_field.split(".")
        node = body
        for name in parents:
            node = node.setdefault(name, {})  # type: ignore[assignment]
        if isinstance(node.get(last), list):  # type: ignore[union-attr]
            node[last].append(placeholder)  # type: ignore[index]  # inside the array
        else:
            node[last] = placeholder  # type: ignore[index]
    text = json.dumps(body).encode()
    return text.replace(json.dumps(placeholder).encode(), value.token)


def files_under(root: Path, stack_dir: Path) -> set[str]:
    """Every file under ``root`` (the temp folder holding the stack) except PostgreSQL's own,
    relative to the stack directory: what a test compares before and after."""
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        if Path(folder) == stack_dir:
            dirs[:] = [d for d in dirs if d != "pg"]
        found.update(os.path.relpath(os.path.join(folder, f), stack_dir) for f in files)
    return found


class Tally:
    """What a fuzz run sent and got: requests per hostile class, statuses, server failures."""

    def __init__(self) -> None:
        self.sent: dict[str, int] = {}
        self.statuses: dict[int, int] = {}
        self.failures: list[str] = []

    def record(self, kind: str, where: str, status: int | str) -> None:
        self.sent[kind] = self.sent.get(kind, 0) + 1
        if isinstance(status, int):
            self.statuses[status] = self.statuses.get(status, 0) + 1
        if not isinstance(status, int) or status >= 500:
            self.failures.append(f"{kind} in {where}: {status}")

    @property
    def total(self) -> int:
        return sum(self.sent.values())

"""Scan files: collect, parse, walk each once, resolve provenance across all, apply the rules.

    result = scan("app/", select=["KIT10"], ignore=["KIT104"])
    result.findings[0].location     # 'app/services/ads.py:222:16'

Files that cannot hold a finding are not parsed: a file is walked when its bytes contain one
of a few keywords (``async``, ``await``, ``supabase``, ``Client``, ...) or a name exported by
a walked file that carries a client (repeated until nothing new). So a syntax error in such a
file is not reported: the scanner is not a syntax checker. ``prefilter=False`` parses every
file: the same findings (tests check it), slower (about 20x on pandas).
"""

from __future__ import annotations

import ast
import itertools
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from kit.errors import UsageError
from kit.scan import rules as _rules  # noqa: F401  (registers the rules)
from kit.scan.cell_positions import CellPositions
from kit.scan.files import NoSuchPath, collect_files, import_root
from kit.scan.grammar import parse_source
from kit.scan.model import RULES, Finding, Notice, ParseProblem
from kit.scan.notebook import NotebookError, NotebookSource, OtherKernel
from kit.scan.provenance import Kind, Resolver
from kit.scan.reach import Reach
from kit.scan.result import ScanResult
from kit.scan.walker import ModuleFacts, walk_module

__all__ = ["CheckContext", "NoSuchPath", "collect_files", "scan"]

KEYWORDS = (b"async", b"await", b"supabase", b"Client", b"run_until_complete", b"to_thread",
            b"run_in_executor", b"anyio", b"trio")
_CLIENTISH = frozenset({"sync_client", "async_client", "httpx_sync", "httpx_async",
                        "sync_options", "async_options"})


_Placed = TypeVar("_Placed", Finding, ParseProblem)


@dataclass(eq=False)
class _Source:
    path: Path
    display: str
    data: bytes
    facts: ModuleFacts | None = None
    notebook: NotebookSource | None = None
    lines: list[str] = field(default_factory=list)


@dataclass
class CheckContext:
    resolver: Resolver
    facts: ModuleFacts
    notebook: NotebookSource | None
    nest_asyncio_applied: bool
    reach: Reach

    def where(self, line: int) -> str:
        if self.notebook is not None:
            cell, cell_line = self.notebook.locate(line)
            return f"cell {cell} line {cell_line}"
        return f"line {line}"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _walk(source: _Source, problems: list[ParseProblem], notices: list[Notice]) -> None:
    is_notebook = source.path.suffix == ".ipynb"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. are not ours to report
            tree: ast.Module
            if is_notebook:
                source.notebook = NotebookSource.from_json(source.data.decode("utf-8", "replace"),
                                                           source.display)
                tree, bad_cells = source.notebook.parse(source.display)
                problems.extend(ParseProblem(source.display, line, col, msg, cell)
                                for cell, line, col, msg in bad_cells)
            else:
                tree = parse_source(source.data, source.display)
        root, parts = import_root(source.path)
        source.facts = walk_module(tree, str(source.path.resolve()), parts,
                                   is_notebook=is_notebook, root=str(root),
                                   display=source.display)
    except SyntaxError as exc:
        problems.append(ParseProblem(source.display, exc.lineno or 1, exc.offset or 1, exc.msg))
    except OtherKernel as exc:
        notices.append(Notice(source.display, exc.problem))
    except (ValueError, NotebookError) as exc:
        problems.append(ParseProblem(source.display, 1, 1, str(exc)))
    except RecursionError:
        problems.append(ParseProblem(source.display, 1, 1, "too deeply nested to scan"))


def _bears_client(resolver: Resolver, kind: Kind) -> bool:
    if kind.tag in _CLIENTISH:
        return True
    if kind.tag == "fn":
        made = resolver.call(kind)
        return made.tag in _CLIENTISH or (made.tag == "coro" and made.inner is not None
                                           and made.inner.tag in _CLIENTISH)
    if kind.tag in ("cls", "inst"):
        cls = resolver.modules[kind.ref[0]].classes.get(kind.ref[1])
        return cls is not None and any(
            resolver.member(kind.ref, name, set()).tag in _CLIENTISH for name in cls.attrs)
    return False


def _exported_names(resolver: Resolver, modules: list[ModuleFacts]) -> set[bytes]:
    names: set[bytes] = set()
    for facts in modules:
        for name in facts.globals:
            if _bears_client(resolver, resolver.kind(("global", facts.modid, name))):
                names.add(name.encode())
    return names


def _read(paths: list[Path], problems: list[ParseProblem],
          overrides: dict[Path, bytes] | None) -> list[_Source]:
    sources = []
    for path in paths:
        display = _display(path)
        data = overrides.get(path.resolve()) if overrides else None
        try:
            sources.append(_Source(path, display, data if data is not None else path.read_bytes()))
        except OSError as exc:
            problems.append(ParseProblem(display, 1, 1, f"cannot read: {exc.strerror}"))
    return sources


def _walk_relevant(sources: list[_Source], problems: list[ParseProblem], notices: list[Notice],
                   prefilter: bool, tick: Callable[[], None] = lambda: None) -> list[_Source]:
    if not prefilter:
        for source in sources:
            _walk(source, problems, notices)
            tick()
        return sources
    walked: list[_Source] = []
    rest: list[_Source] = []
    for source in sources:
        (walked if any(k in source.data for k in KEYWORDS) else rest).append(source)
    new = list(walked)
    while new:
        for source in new:
            _walk(source, problems, notices)
            tick()
        if not rest:
            break
        names = _exported_names(Resolver([s.facts for s in walked if s.facts is not None]),
                                [s.facts for s in new if s.facts is not None])
        new = [s for s in rest if any(n in s.data for n in names)] if names else []
        chosen = {id(s) for s in new}
        rest = [s for s in rest if id(s) not in chosen]
        walked += new
    return walked


def _ignored(line_text: str, code: str) -> bool:
    marker = line_text.find("# kit: ignore")
    if marker < 0:
        return False
    rest = line_text[marker + len("# kit: ignore"):]
    if not rest.startswith("["):
        return True
    codes = rest[1:rest.find("]")] if "]" in rest else rest[1:]
    return code in {c.strip().upper() for c in codes.split(",")}


def _char_col(text: str, byte_col: int) -> int:
    """A 0-based UTF-8 byte offset (what ast gives) as a 0-based character offset."""
    if text.isascii():
        return byte_col
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _check(source: _Source, ctx: CheckContext, by_event: dict[str, list],
           codes: frozenset[str]) -> list[Finding]:
    """Findings of one file; a KIT104 that only repeats the KIT102s inside it is folded into
    them (and silenced with them by ``# kit: ignore`` on the call)."""
    facts = ctx.facts
    lines: list[str] = source.notebook.lines if source.notebook else []

    def line_text(number: int) -> str:
        if not lines:  # decoded only when a rule hits: most files have none
            lines.extend(source.data.decode("utf-8", "replace").splitlines() or [""])
        return lines[number - 1] if 0 < number <= len(lines) else ""

    # (finding, related lines, its line in the source scanned): a notebook's finding.line is the
    # line in its cell, the other two are lines of the joined cells
    found: list[tuple[Finding, tuple[int, ...], int]] = []
    silenced_102: set[int] = set()
    for event in facts.events:
        for rule in by_event.get(event.type, ()):
            for hit in rule.check(event, ctx):
                text = line_text(hit.line)
                if _ignored(text, rule.code):
                    if rule.code == "KIT102":
                        silenced_102.add(hit.line)
                    continue
                cell, line = source.notebook.locate(hit.line) if source.notebook else (None, hit.line)
                end_line, end_col = hit.end
                end_text = line_text(end_line) if end_line else ""
                found.append((Finding(
                    source.display, line, _char_col(text, hit.col - 1) + 1, rule.code,
                    hit.message, hit.fix or rule.fix, hit.confidence, cell, text.strip(), hit.edit,
                    end_line - hit.line + line if end_line else 0,
                    _char_col(end_text, end_col) + 1 if end_line else 0), hit.related, hit.line))
    if "KIT102" not in codes:
        return [f for f, _, _ in found]
    first_102: dict[int, int] = {}  # line -> index in found of its first KIT102 (a line may have two)
    for index, (finding, _, at) in enumerate(found):
        if finding.code == "KIT102":
            first_102.setdefault(at, index)
    folded: dict[int, Finding] = {}
    kept: list[int] = []
    for index, (finding, related, at) in enumerate(found):
        if finding.code == "KIT104" and related:
            if any(_ignored(line_text(r), "KIT104") for r in related) or silenced_102 & set(related):
                continue
            repeated = [r for r in related if r in first_102]
            if repeated:
                into = first_102[repeated[0]]
                first = folded.get(into, found[into][0])
                folded[into] = replace(first, message=(
                    f"{first.message}; `async def` at {ctx.where(at)} awaits nothing else, so "
                    "a plain `def` called through `asyncio.to_thread` fixes it too"))
                continue
        kept.append(index)
    return [folded.get(index, found[index][0]) for index in kept]


def _in_file(found: list[_Placed], sources: list[_Source]) -> list[_Placed]:
    """Notebook findings (or problems) with their place in the .ipynb text: ``file_region``."""
    if not any(f.cell is not None for f in found):
        return found
    texts = {s.display: s.data for s in sources if s.path.suffix == ".ipynb"}
    positions: dict[str, CellPositions] = {}
    placed: list[_Placed] = []
    for item in found:
        if item.cell is None or item.path not in texts:
            placed.append(item)
            continue
        if item.path not in positions:
            positions[item.path] = CellPositions(texts[item.path].decode("utf-8", "replace"))
        region = _file_region(positions[item.path], item.cell, item.line, item.col,
                              getattr(item, "end_line", 0), getattr(item, "end_col", 0))
        placed.append(replace(item, file_region=region) if region else item)
    return placed


def _file_region(where: CellPositions, cell: int, line: int, col: int, end_line: int,
                 end_col: int) -> tuple[int, int, int, int] | None:
    first = where.locate(cell, line, col)
    if first is None:
        return None
    last = where.locate(cell, end_line, end_col, end=True) if end_line else None
    return (*first, *(last or (0, 0)))


def scan(*paths: str | os.PathLike[str], select: Iterable[str] | None = None,
         ignore: Iterable[str] | None = None, prefilter: bool = True,
         include_vendored: bool = False, overrides: dict[Path, bytes] | None = None,
         progress: Callable[[int, int], None] | None = None) -> ScanResult:
    """Scan .py files and notebooks for sync/async misuse of supabase-py.

        kit.scan("app/")                       # a table of findings in a notebook
        kit.scan("a.py", "b.ipynb", select=["KIT101", "KIT102"])
        kit.scan(".", include_vendored=True)   # .venv, site-packages, build... too

    ``overrides`` maps resolved paths to the bytes to scan instead of the file's (used by
    ``--diff`` to scan fixes before writing them). ``progress(parsed, files)`` is called after
    each file parsed (files that cannot hold a finding are skipped, so ``parsed`` may stay below
    ``files``). Raises UsageError (NoSuchPath, UnknownRule).
    """
    if not paths:
        raise UsageError("nothing to scan", fix="pass one or more files or directories")
    codes = RULES.select(select, ignore)
    files, notices = collect_files(paths, include_vendored=include_vendored)
    problems: list[ParseProblem] = []
    sources = _read(files, problems, overrides)
    parsed = itertools.count(1)
    tick = (lambda: progress(next(parsed), len(sources))) if progress else (lambda: None)
    walked = [s for s in _walk_relevant(sources, problems, notices, prefilter, tick)
              if s.facts is not None]
    resolver = Resolver([s.facts for s in walked])  # type: ignore[misc]
    reach = Reach(resolver)
    by_event: dict[str, list] = {}
    for rule in RULES:
        if rule.code in codes:
            for event_type in rule.events:
                by_event.setdefault(event_type, []).append(rule)
    findings: list[Finding] = []
    for source in walked:
        facts = source.facts
        assert facts is not None
        if not facts.events:
            continue
        nested = any(e.type == "libcall" and e.op == "apply"
                     and resolver.kind(e.value).ref == "nest_asyncio.apply" for e in facts.events)
        findings += _check(source, CheckContext(resolver, facts, source.notebook, nested, reach),
                           by_event, codes)
    findings, problems = _in_file(findings, sources), _in_file(problems, sources)
    findings.sort(key=lambda f: (f.path, f.cell or 0, f.line, f.col, f.code))
    problems.sort(key=lambda p: (p.path, p.cell or 0, p.line))
    return ScanResult(findings, problems, files_scanned=len(sources), codes=sorted(codes),
                      notices=notices)

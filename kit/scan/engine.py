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
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kit.errors import UsageError
from kit.scan import rules as _rules  # noqa: F401  (registers the rules)
from kit.scan.model import RULES, Finding, ParseProblem
from kit.scan.notebook import NotebookError, NotebookSource
from kit.scan.provenance import Kind, Resolver
from kit.scan.result import ScanResult
from kit.scan.walker import ModuleFacts, walk_module

KEYWORDS = (b"async", b"await", b"supabase", b"Client", b"run_until_complete", b"to_thread",
            b"run_in_executor", b"anyio", b"trio")
SKIP_DIRS = frozenset({"__pycache__", "node_modules"})
_CLIENTISH = frozenset({"sync_client", "async_client", "httpx_sync", "httpx_async",
                        "sync_options", "async_options"})


class NoSuchPath(UsageError):
    """A path given to scan does not exist or holds no .py / .ipynb file."""


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

    def where(self, line: int) -> str:
        if self.notebook is not None:
            cell, cell_line = self.notebook.locate(line)
            return f"cell {cell} line {cell_line}"
        return f"line {line}"


def collect_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every .py and .ipynb file under the paths (hidden and cache directories skipped)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
                found.extend(Path(root, f) for f in sorted(files)
                             if f.endswith((".py", ".ipynb")))
        else:
            raise NoSuchPath(f"no such file or directory: {raw}",
                             fix="pass existing .py / .ipynb files or directories")
    return found


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _parts(path: Path) -> tuple[str, ...]:
    resolved = path.resolve()
    return (*resolved.parent.parts[1:], resolved.name.rsplit(".", 1)[0])


def _walk(source: _Source, problems: list[ParseProblem]) -> None:
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
                tree = ast.parse(source.data, source.display)
        source.facts = walk_module(tree, str(source.path), _parts(source.path),
                                   is_notebook=is_notebook)
    except SyntaxError as exc:
        problems.append(ParseProblem(source.display, exc.lineno or 1, exc.offset or 1, exc.msg))
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


def _read(paths: list[Path]) -> list[_Source]:
    sources = []
    for path in paths:
        try:
            sources.append(_Source(path, _display(path), path.read_bytes()))
        except OSError as exc:
            raise NoSuchPath(f"cannot read {path}: {exc.strerror}", fix="check the path") from exc
    return sources


def _walk_relevant(sources: list[_Source], problems: list[ParseProblem],
                   prefilter: bool) -> list[_Source]:
    if not prefilter:
        for source in sources:
            _walk(source, problems)
        return sources
    walked: list[_Source] = []
    rest: list[_Source] = []
    for source in sources:
        (walked if any(k in source.data for k in KEYWORDS) else rest).append(source)
    new = list(walked)
    while new:
        for source in new:
            _walk(source, problems)
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


def scan(*paths: str | os.PathLike[str], select: Iterable[str] | None = None,
         ignore: Iterable[str] | None = None, prefilter: bool = True) -> ScanResult:
    """Scan .py files and notebooks for sync/async misuse of supabase-py.

        kit.scan("app/")                       # a table of findings in a notebook
        kit.scan("a.py", "b.ipynb", select=["KIT101", "KIT102"])
    """
    if not paths:
        raise UsageError("nothing to scan", fix="pass one or more files or directories")
    codes = RULES.select(select, ignore)
    sources = _read(collect_files(paths))
    problems: list[ParseProblem] = []
    walked = [s for s in _walk_relevant(sources, problems, prefilter) if s.facts is not None]
    resolver = Resolver([s.facts for s in walked])  # type: ignore[misc]
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
        ctx = CheckContext(resolver, facts, source.notebook, nested)
        lines = source.notebook.lines if source.notebook else None
        for event in facts.events:
            for rule in by_event.get(event.type, ()):
                for hit in rule.check(event, ctx):
                    if lines is None:
                        lines = source.data.decode("utf-8", "replace").splitlines()
                    text = lines[hit.line - 1] if 0 < hit.line <= len(lines) else ""
                    if _ignored(text, rule.code):
                        continue
                    cell, line = source.notebook.locate(hit.line) if source.notebook else (None, hit.line)
                    findings.append(Finding(source.display, line, hit.col, rule.code, hit.message,
                                            rule.fix, hit.confidence, cell, text.strip()))
    findings.sort(key=lambda f: (f.path, f.cell or 0, f.line, f.col, f.code))
    problems.sort(key=lambda p: (p.path, p.cell or 0, p.line))
    return ScanResult(findings, problems, files_scanned=len(sources), codes=sorted(codes))

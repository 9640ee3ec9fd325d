"""``kit scan --fix`` / ``--diff``: the safe rewrites, made with libcst so comments and
formatting survive.

    report = fix_paths(["app/"], write=False)   # what --diff shows
    report.diff                                  # unified diff, ruff-style
    fix_source(text, findings)                   # (new text, edits applied): pure

Edits, by the finding's ``edit``:
    drop_await   KIT101  ``await client.table(...).execute()`` → the call (its KIT102 fix follows)
    to_thread    KIT102  ``f(a, k=b)`` → ``await asyncio.to_thread(f, a, k=b)`` (kit.scan.imports)
    to_thread_lambda  KIT102  ``sb.table("t").select("*").execute()`` →
                 ``await asyncio.to_thread(lambda: sb.table("t").select("*").execute())``: the
                 whole call in the thread (kit.scan.values.thread_form chooses the form)
    add_await    KIT103  ``coro(...)`` → ``await coro(...)`` inside an ``async def``
    execute      KIT109  ``await builder`` → ``await builder.execute()`` on an AsyncClient
    await_directly  KIT108  ``await asyncio.to_thread(sb.table("t").select("*").execute)`` →
                 ``await sb.table("t").select("*").execute()`` (an AsyncClient's call or an
                 ``async def`` needs no thread; ``run_in_executor(None, f, a)`` and
                 ``to_thread(lambda: g())`` likewise)
A rewritten file that does not compile is never written. Fixes run in rounds (a KIT101 fix
can reveal a KIT102) until nothing changes, at most ``MAX_ROUNDS``. Notebooks are fixed cell by
cell (kit.scan.fix_notebook).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from kit.scan.engine import scan
from kit.scan.imports import to_thread_name, with_asyncio_import
from kit.scan.model import Finding
from kit.scan.result import ScanResult

MAX_ROUNDS = 10
Span = tuple[int, int, int, int]  # 1-based start line, col, end line, col (end exclusive + 1)


class _Fixer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: dict[Span, str], to_thread: str) -> None:
        super().__init__()
        self.edits = edits
        self.to_thread = to_thread  # "asyncio.to_thread", or the module's own name for it
        self.applied = 0
        self.needs_asyncio = False
        # the awaits this fixer built (parenthesised), by id: (the node, kept alive so its id is
        # not reused; for a to_thread wrap, the call it moved to the thread)
        self.made: dict[int, tuple[cst.Await, cst.Call | None]] = {}

    def _edit(self, node: cst.CSTNode) -> str:
        where = self.get_metadata(PositionProvider, node)
        return self.edits.get((where.start.line, where.start.column + 1,
                               where.end.line, where.end.column + 1), "")

    def _await(self, expression: cst.BaseExpression, threaded: cst.Call | None = None) -> cst.Await:
        made = cst.Await(expression, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        self.made[id(made)] = (made, threaded)
        return made

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        edit = self._edit(original)
        if edit == "add_await":
            self.applied += 1
            return self._await(updated)
        if edit in ("to_thread", "to_thread_lambda"):
            self.applied += 1
            self.needs_asyncio = True
            whole = self._in_lambda(updated) if edit == "to_thread_lambda" else None
            if whole is not None:
                args = [cst.Arg(cst.Lambda(cst.Parameters(), whole))]
            else:
                first = cst.Arg(updated.func, comma=cst.Comma(
                    whitespace_after=cst.SimpleWhitespace(" ")) if updated.args else cst.MaybeSentinel.DEFAULT)
                args = [first, *updated.args]
            return self._await(cst.Call(cst.parse_expression(self.to_thread), args=args), updated)
        if edit == "await_directly":
            direct = _called_directly(updated)
            if direct is not None:
                self.applied += 1
                return direct
        return updated

    def _in_lambda(self, call: cst.Call) -> cst.Call | None:
        """The call as a lambda's body: an argument this fixer moved to a thread already goes
        back to a plain call (the lambda runs it in the thread); None when an ``await`` stays
        (an added ``await`` cannot go into a lambda: then ``to_thread(f, *args)``)."""
        awaits = _Awaits()
        call.visit(awaits)
        if any(self.made.get(id(a), (None, None))[1] is None for a in awaits.found):
            return None
        return call.visit(_Unthread(self.made)) if awaits.found else call  # type: ignore[return-value]

    def leave_Await(self, original: cst.Await, updated: cst.Await) -> cst.BaseExpression:
        edit = self._edit(original)
        inner = updated.expression
        if id(inner) in self.made:  # `await f(x)` whose f(x) became `await to_thread(...)`
            return updated.with_changes(expression=inner.expression)  # type: ignore[attr-defined]
        if edit == "drop_await":
            self.applied += 1
            return inner
        if edit == "execute":
            self.applied += 1
            if isinstance(inner, cst.Attribute) and inner.attr.value == "execute":
                return updated.with_changes(expression=cst.Call(inner))
            return updated.with_changes(expression=cst.Call(cst.Attribute(inner, cst.Name("execute"))))
        return updated

    def _bare(self, node: Any) -> Any:
        if id(node) in self.made:
            bare = node.with_changes(lpar=[], rpar=[])
            self.made[id(bare)] = (bare, self.made[id(node)][1])
            return bare
        return node

    def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.Expr:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(value=self._bare(updated.value))


def _called_directly(call: cst.Call) -> cst.BaseExpression | None:
    """``to_thread(f, a)`` / ``run_in_executor(None, f, a)`` → ``f(a)``; ``to_thread(lambda:
    g())`` → ``g()``: what the enclosing ``await`` should await. None if it is not that shape."""
    func = call.func
    skip = 1 if isinstance(func, cst.Attribute) and func.attr.value == "run_in_executor" else 0
    if len(call.args) <= skip or any(a.star for a in call.args):
        return None
    target, rest = call.args[skip].value, list(call.args[skip + 1:])
    if isinstance(target, cst.Lambda):
        body = target.body
        return body if not rest and not target.params.params and isinstance(body, cst.Call) else None
    if rest:
        rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return cst.Call(target, args=rest)


class _Awaits(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.Await] = []

    def visit_Await(self, node: cst.Await) -> None:
        self.found.append(node)


class _Unthread(cst.CSTTransformer):
    """``(await asyncio.to_thread(...))`` built by the fixer → the call it wrapped."""

    def __init__(self, made: dict[int, tuple[cst.Await, cst.Call | None]]) -> None:
        super().__init__()
        self.made = made

    def leave_Await(self, original: cst.Await, updated: cst.Await) -> cst.BaseExpression:
        threaded = self.made.get(id(original), (None, None))[1]
        return threaded if threaded is not None else updated


def _compiles(code: str, path: str, flags: int = 0) -> bool:
    try:
        compile(code, path, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def edits_of(findings: Iterable[Finding]) -> dict[Span, str]:
    """The findings' edits by span (lines are the file's, or the cell's for a notebook's)."""
    return {(f.line, f.col, f.end_line, f.end_col): f.edit for f in findings if f.edit and f.end_line}


def fix_source(text: str, findings: Iterable[Finding], path: str = "<fix>") -> tuple[str, int]:
    """The text with the findings' edits applied, and how many were; the text unchanged (0)
    when it does not compile before, or would not compile after."""
    return rewrite(text, edits_of(f for f in findings if f.cell is None), path)


def rewrite(text: str, edits: dict[Span, str], path: str, *, to_thread: str | None = None,
            flags: int = 0) -> tuple[str, int]:
    """``fix_source`` on edits by span: ``to_thread`` is the name the code already has for
    ``asyncio.to_thread`` (else it is looked up in ``text``, and ``import asyncio`` added when
    missing); ``flags`` are ``compile`` flags (``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`` for a cell)."""
    if not edits or not _compiles(text, path, flags):
        return text, 0
    try:
        parsed = cst.parse_module(text)
    except cst.ParserSyntaxError:
        return text, 0
    known = to_thread or to_thread_name(parsed)
    fixer = _Fixer(edits, known or "asyncio.to_thread")
    module = MetadataWrapper(parsed).visit(fixer)
    if fixer.needs_asyncio and known is None:
        module = with_asyncio_import(module)
    code = module.code
    if not fixer.applied or not _compiles(code, path, flags):
        return text, 0
    return code, fixer.applied


@dataclass
class FixReport:
    """What --fix did (or --diff would do): files changed, findings fixed, the scan after.

    ``fixed`` counts the findings the scan reported (as ruff counts diagnostics, so
    ``fixed + len(result)`` is the plain scan's count when no fix reveals a finding it cannot
    fix); ``edits`` counts rewrites, including the follow-ups a fix reveals (a KIT101's KIT102).
    """

    result: ScanResult
    fixed: int = 0
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (before, after)
    edits: int = 0
    # notebook cells with fixable findings left as they are: (path, cell, the IPython syntax)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def skipped_lines(self) -> list[str]:
        """``nb.ipynb:cell 5: not rewritten (IPython syntax: %time); fix it by hand``, one a cell."""
        return [f"{path}:cell {cell}: not rewritten (IPython syntax: {syntax}); fix it by hand"
                for path, cell, syntax in self.skipped]

    @property
    def diff(self) -> str:
        from kit.scan.fix_notebook import cell_diff

        parts: list[str] = []
        for path, (before, after) in sorted(self.changed.items()):
            if path.endswith(".ipynb"):
                parts.append(cell_diff(path, before, after))
            else:
                parts.extend(difflib.unified_diff(before.splitlines(keepends=True),
                                                  after.splitlines(keepends=True), path, path))
        return "".join(parts)

    def __repr__(self) -> str:
        return (f"<FixReport {self.fixed} fixed in {len(self.changed)} files, "
                f"{len(self.result)} remaining>")


def fix_paths(paths: Iterable[str | os.PathLike[str]], *, write: bool = True,
              **options: Any) -> FixReport:
    """Fix the findings that have a safe edit, in rounds, in .py files and notebooks; write the
    files unless ``write`` is False (``--diff``). ``options`` are kit.scan's (select, ignore, include_vendored...)."""
    from kit.scan.fix_notebook import fix_notebook  # it builds on this module

    paths = list(paths)
    overrides: dict[Path, bytes] = {}
    before: dict[Path, tuple[str, str]] = {}
    fixed = edits = 0
    skipped: dict[str, dict[int, str]] = {}
    result = scan(*paths, overrides=overrides, **options)
    for round_ in range(MAX_ROUNDS):
        by_file: dict[str, list[Finding]] = {}
        for finding in result:
            if finding.edit and finding.path.endswith((".py", ".ipynb")):
                by_file.setdefault(finding.path, []).append(finding)
        progress = False
        for display, findings in by_file.items():
            key = Path(display).resolve()
            text = overrides[key].decode("utf-8") if key in overrides else key.read_text("utf-8")
            new, applied = (fix_notebook(text, findings, display, skipped.setdefault(display, {}))
                            if display.endswith(".ipynb") else fix_source(text, findings, display))
            if applied:
                before.setdefault(key, (display, text))
                overrides[key] = new.encode("utf-8")
                edits += applied
                fixed += applied if round_ == 0 else 0  # later rounds fix what a fix revealed
                progress = True
        if not progress:
            break
        result = scan(*paths, overrides=overrides, **options)
    changed = {display: (text, overrides[key].decode("utf-8")) for key, (display, text) in before.items()}
    if write:
        for key in before:
            key.write_bytes(overrides[key])
    cells = [(path, cell, syntax) for path, by_cell in sorted(skipped.items())
             for cell, syntax in sorted(by_cell.items())]
    return FixReport(result, fixed, changed, edits, cells)

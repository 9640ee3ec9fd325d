"""The ``asyncio`` a ``--fix`` rewrite needs: the name a module already has for it, or an
``import asyncio`` placed where isort (and ruff's I001) would put it.

    to_thread_name(module)        # "aio.to_thread" after `import asyncio as aio`; "to_thread"
                                  # after `from asyncio import to_thread`; None: not imported yet
    with_asyncio_import(module)   # `import asyncio` in the standard-library block, in order

Placement follows isort's defaults (``profile=black`` and ruff agree): sections future,
standard library, third party, first party/local, separated by one blank line; inside a
section plain ``import x`` lines come before ``from x import y`` lines, each sorted by module
name ignoring case. Only the leading block of module-level imports (after the docstring) is
read; an unsorted block is not re-sorted, the new line goes before the first line that sorts
after it. The standard library is ``sys.stdlib_module_names``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import libcst as cst

__all__ = ["to_thread_name", "with_asyncio_import"]

_NAME = "asyncio"


@dataclass(frozen=True)
class _Entry:
    index: int  # position in module.body
    section: int  # 0 future, 1 standard library, 2 third party, 3 local (relative)
    plain: bool  # `import x` (True) or `from x import y`
    name: str


def _dotted(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _imports(statement: cst.CSTNode) -> list[cst.Import | cst.ImportFrom] | None:
    """The imports of a simple statement line made only of imports, else None."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    found = [s for s in statement.body if isinstance(s, (cst.Import, cst.ImportFrom))]
    return found if found and len(found) == len(statement.body) else None


def to_thread_name(module: cst.Module) -> str | None:
    """How the module's own top-level imports let it call ``asyncio.to_thread``; None when
    they do not (an import must be added)."""
    for statement in module.body:
        for node in _imports(statement) or ():
            if isinstance(node, cst.Import):
                for alias in node.names:
                    name = _dotted(alias.name)
                    if alias.asname is not None and name == _NAME:
                        return f"{_dotted(alias.asname.name)}.to_thread"
                    if alias.asname is None and name.split(".")[0] == _NAME:
                        return f"{_NAME}.to_thread"
            elif not node.relative and _dotted(node.module) == _NAME and not isinstance(
                    node.names, cst.ImportStar):
                for alias in node.names:
                    if _dotted(alias.name) == "to_thread":
                        return _dotted(alias.asname.name) if alias.asname else "to_thread"
    return None


def _docstring(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _block(module: cst.Module) -> tuple[int, list[_Entry]]:
    """Where the import block starts (after a docstring) and its entries."""
    start = 1 if module.body and _docstring(module.body[0]) else 0
    entries: list[_Entry] = []
    for index in range(start, len(module.body)):
        nodes = _imports(module.body[index])
        if nodes is None:
            break
        node = nodes[0]
        if isinstance(node, cst.Import):
            name, plain, relative = _dotted(node.names[0].name), True, False
        else:
            name, plain, relative = _dotted(node.module), False, bool(node.relative)
        top = name.split(".")[0]
        section = (3 if relative else 0 if top == "__future__" else
                   1 if top in sys.stdlib_module_names else 2)
        entries.append(_Entry(index, section, plain, name))
    return start, entries


def _blank(count: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine() for _ in range(count)]


def with_asyncio_import(module: cst.Module) -> cst.Module:
    """``module`` with ``import asyncio`` added in isort's place (unchanged if it has one)."""
    if to_thread_name(module) is not None:
        return module
    start, entries = _block(module)
    body = list(module.body)
    new = cst.SimpleStatementLine([cst.Import([cst.ImportAlias(cst.Name(_NAME))])])
    after_it = next((e for e in entries if e.section > 1 or (e.section == 1 and (
        not e.plain or e.name.lower() > _NAME))), None)
    if after_it is not None:
        old = body[after_it.index]
        lines = list(old.leading_lines)
        blank = 0
        while blank < len(lines) and lines[blank].comment is None:
            blank += 1
        if after_it.section == 1:  # inside the standard-library section: take its blank lines
            new = new.with_changes(leading_lines=lines[:blank])
            body[after_it.index] = old.with_changes(leading_lines=lines[blank:])
        elif not any(e.section == 1 for e in entries):  # it opens the section, before the next
            new = new.with_changes(leading_lines=lines[:blank])
            body[after_it.index] = old.with_changes(leading_lines=_blank(1) + lines[blank:])
        body.insert(after_it.index, new)  # else: it ends the section, the next keeps its gap
    elif entries:  # after the last import (the standard library ends the block)
        last = entries[-1]
        if last.section == 0:
            new = new.with_changes(leading_lines=_blank(1))
        body.insert(last.index + 1, new)
    else:  # no imports: after the docstring, then the blank lines isort leaves before code
        if start:
            new = new.with_changes(leading_lines=_blank(1))
        if start < len(body):
            following = body[start]
            wanted = 2 if isinstance(following, (cst.FunctionDef, cst.ClassDef)) else 1
            lines = list(following.leading_lines)
            missing = max(0, wanted - sum(1 for line in lines if line.comment is None))
            body[start] = following.with_changes(leading_lines=_blank(missing) + lines)
        body.insert(start, new)
    return module.with_changes(body=body)

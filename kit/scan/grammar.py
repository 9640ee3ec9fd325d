"""Parse source with the grammar of the project's Python, not only this interpreter's.

    tree = parse_source(data, "app/models.py")   # ast.Module, or SyntaxError naming grammars

The interpreter's ``ast`` parses first (fast). A file written for a newer Python (3.12's
``type`` aliases and ``def f[T]()``, 3.13's type-parameter defaults, 3.12's nested f-string
quotes) is parsed by libcst's grammar (Python 3.0 to 3.14) instead and lowered to what this
interpreter's ``ast`` reads: type parameters dropped, ``type X = ...`` made ``X = ...``,
f-strings replaced by a tuple of their expressions (so calls inside them are still seen).
Lines stay where they were, except inside multi-line f-strings.
"""

from __future__ import annotations

import ast
import sys
from typing import Any

INTERPRETER = f"{sys.version_info.major}.{sys.version_info.minor}"
FALLBACK = "libcst (Python 3.0 to 3.14)"


def _lowered(text: str) -> str:
    import libcst as cst

    class Lower(cst.CSTTransformer):
        def leave_FunctionDef(self, original: Any, updated: Any) -> Any:
            return updated.with_changes(type_parameters=None)

        def leave_ClassDef(self, original: Any, updated: Any) -> Any:
            return updated.with_changes(type_parameters=None)

        def leave_TypeAlias(self, original: Any, updated: Any) -> Any:
            return cst.Assign(targets=[cst.AssignTarget(updated.name)], value=updated.value)

        def leave_FormattedString(self, original: Any, updated: Any) -> Any:
            parts = [cst.Element(p.expression) for p in updated.parts
                     if isinstance(p, cst.FormattedStringExpression)]
            if not parts:
                return cst.SimpleString('""')
            return cst.Tuple(parts)

    return cst.parse_module(text).visit(Lower()).code


def parse_source(data: bytes | str, filename: str) -> ast.Module:
    """The module's ast; SyntaxError when neither grammar reads it (the message says which)."""
    try:
        return ast.parse(data, filename)
    except SyntaxError as first:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        try:
            import libcst as cst

            return ast.parse(_lowered(text), filename)
        except (cst.ParserSyntaxError, SyntaxError, ValueError, RecursionError):
            error = SyntaxError(f"{first.msg} (neither Python {INTERPRETER}'s grammar nor "
                                f"{FALLBACK} reads it)")
            error.lineno, error.offset = first.lineno, first.offset
            raise error from None

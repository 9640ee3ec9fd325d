"""Which lines of a file run only sometimes: imports the app can do without.

    guarded_lines(tree)        # {3, 4}: inside try/except ImportError, contextlib.suppress(ImportError),
                               # or ``if importlib.util.find_spec("x"):``
    conditions(tree)           # {7: (("sys.version_info >= (3, 11)", False),)}: line 7 runs only
                               # where that test is false (the ``else:`` of a version check)
    holds(conditions, markers) # True / False / None (cannot tell) for one interpreter

Facts: ``sys.version_info`` compares as a tuple (``(3, 11, 7, 'final', 0) >= (3, 11)``);
``sys.platform`` is ``linux``/``darwin``/``win32``; the probe reports both as PEP 508 markers
(``python_full_version``, ``sys_platform``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from kit.doctor.project import all_nodes

__all__ = ["IMPORT_ERRORS", "Conditions", "conditions", "guarded_lines", "holds"]

# Handlers that catch a failed import: ``except (ImportError, AttributeError):`` counts too.
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
Conditions = tuple[tuple[str, bool], ...]   # (test's source, the value it must have)
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Eq: operator.eq, ast.NotEq: operator.ne}


def _lines(nodes: list[ast.stmt]) -> set[int]:
    return {n for child in nodes for n in range(child.lineno, (child.end_lineno or child.lineno) + 1)}


def _catches_import_error(handler: ast.ExceptHandler | ast.expr | None) -> bool:
    node = handler.type if isinstance(handler, ast.ExceptHandler) else handler
    return node is None or any(isinstance(n, ast.Name) and n.id in IMPORT_ERRORS or
                               isinstance(n, ast.Attribute) and n.attr in IMPORT_ERRORS
                               for n in ast.walk(node))


def _is_suppress(item: ast.withitem) -> bool:
    call = item.context_expr
    if not isinstance(call, ast.Call):
        return False
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    return name == "suppress" and any(_catches_import_error(arg) for arg in call.args)


def _is_find_spec(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Call) and (getattr(n.func, "attr", "") or getattr(n.func, "id", ""))
               in ("find_spec", "find_loader") for n in ast.walk(test))


def guarded_lines(tree: ast.Module) -> set[int]:
    """Lines whose failed import the code expects: ``try:`` bodies whose handlers catch
    ImportError (or Exception, or everything), ``with contextlib.suppress(ImportError):``
    bodies and ``if importlib.util.find_spec("x"):`` bodies."""
    lines: set[int] = set()
    for node in all_nodes(tree):
        if (isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers)
                or isinstance(node, ast.With | ast.AsyncWith) and any(_is_suppress(i) for i in node.items)
                or isinstance(node, ast.If) and _is_find_spec(node.test)):
            lines |= _lines(node.body)
    return lines


def _about_interpreter(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "sys"
               and n.attr in ("version_info", "platform") for n in ast.walk(test))


def conditions(tree: ast.Module) -> dict[int, Conditions]:
    """Line -> the ``sys.version_info`` / ``sys.platform`` tests it runs under, each with the
    value it needs (True in the ``if`` body, False in its ``else``)."""
    found: dict[int, Conditions] = {}
    for node in all_nodes(tree):
        if not (isinstance(node, ast.If) and _about_interpreter(node.test)):
            continue
        test = ast.unparse(node.test)
        for wanted, body in ((True, node.body), (False, node.orelse)):
            for line in _lines(body):
                found[line] = found.get(line, ()) + ((test, wanted),)
    return found


def _value(node: ast.expr, facts: Mapping[str, Any]) -> Any:
    """The value of a small expression over ``sys.version_info``/``sys.platform``; raises
    ValueError for anything else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_value(e, facts) for e in node.elts)
    if isinstance(node, ast.Attribute) and facts.get(ast.unparse(node)) is not None:
        return facts[ast.unparse(node)]
    if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "sys.version_info":
        fields = ("major", "minor", "micro")
        if node.attr in fields:
            return facts["sys.version_info"][fields.index(node.attr)]
    if isinstance(node, ast.Subscript):
        return _value(node.value, facts)[_value(node.slice, facts)]
    if isinstance(node, ast.Slice):
        return slice(*(None if p is None else _value(p, facts) for p in (node.lower, node.upper, node.step)))
    if isinstance(node, ast.Compare):
        left = _value(node.left, facts)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _value(right_node, facts)
            if type(op) not in _COMPARE or not _COMPARE[type(op)](left, right):
                if type(op) not in _COMPARE:
                    raise ValueError(ast.unparse(node))
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):  # short-circuits as Python does: `x or <unknown>` may be told
        decisive = not isinstance(node.op, ast.And)
        return decisive if any(bool(_value(v, facts)) == decisive for v in node.values) else not decisive
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _value(node.operand, facts)
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "sys.platform.startswith":
        return facts["sys.platform"].startswith(_value(node.args[0], facts))
    raise ValueError(ast.unparse(node))


def holds(needed: Conditions, markers: Mapping[str, str]) -> bool | None:
    """Whether every condition has its needed value on an interpreter with these PEP 508
    ``markers``; None when one cannot be told (an unknown expression or marker)."""
    if not needed:
        return True
    try:
        version = tuple(int(p) for p in markers["python_full_version"].split(".")[:3] if p.isdigit())
        facts = {"sys.version_info": version, "sys.platform": markers.get("sys_platform")}
        return all(bool(_value(ast.parse(test, mode="eval").body, facts)) == wanted
                   for test, wanted in needed)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, SyntaxError):
        return None

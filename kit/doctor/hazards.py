"""Python-version hazards: code the app's lowest supported Python cannot run.

    for hazard in HAZARDS.values():
        for line, detail in hazard.find(tree, runtime_annotations=...):
            ...

Each ``Hazard`` registers in ``HAZARDS`` with the first version that runs it. Facts (the
Python docs' "What's new" pages): ``X | Y`` between types at runtime is 3.10 (PEP 604),
``list[int]`` at runtime 3.9 (PEP 585), ``match`` 3.10 (PEP 634), ``except*`` 3.11
(PEP 654), ``type X = ...`` and ``def f[T]()`` 3.12 (PEP 695), ``:=`` 3.8 (PEP 572).
Annotations are evaluated when the ``def``/``class`` runs unless the module has
``from __future__ import annotations``; pydantic, FastAPI and ``typing.get_type_hints``
evaluate even those (the seeds/001 ``TypeError: unsupported operand type(s) for |``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kit.doctor.project import all_nodes

__all__ = ["HAZARDS", "Hazard", "RuntimeAnnotations", "pep695_lines"]

Finding = tuple[int, str]  # (line, what was seen)
BUILTIN_TYPES = frozenset({"int", "str", "float", "bool", "bytes", "list", "dict", "set", "tuple",
                           "type", "object", "complex", "frozenset", "bytearray"})
GENERIC_BUILTINS = frozenset({"list", "dict", "set", "frozenset", "tuple", "type"})
MODEL_BASES = frozenset({"BaseModel", "BaseSettings", "SQLModel", "RootModel", "GenericModel"})
ROUTE_DECORATORS = frozenset({"get", "post", "put", "patch", "delete", "head", "options",
                              "api_route", "websocket", "command", "callback", "validate_call",
                              "validate_arguments"})


@dataclass(frozen=True)
class Hazard:
    name: str
    since: tuple[int, int]
    why: str
    fix: str
    find: Callable[[ast.Module, RuntimeAnnotations], Iterator[Finding]]


HAZARDS: dict[str, Hazard] = {}


Finder = Callable[[ast.Module, "RuntimeAnnotations"], Iterator[Finding]]


def hazard(name: str, since: tuple[int, int], why: str, fix: str) -> Callable[[Finder], Finder]:
    """Register a hazard: ``@hazard("match statement", (3, 10), why, fix)`` over a finder."""
    def add(find: Finder) -> Finder:
        HAZARDS[name] = Hazard(name, since, why, fix, find)
        return find
    return add


class RuntimeAnnotations:
    """Which annotations of a module Python (or a library) evaluates while the app runs."""

    def __init__(self, tree: ast.Module, model_classes: set[str]) -> None:
        self.postponed = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
                             any(a.name == "annotations" for a in n.names) for n in tree.body)
        self.model_classes = model_classes
        self.hinted = {ast.unparse(n.args[0]) for n in all_nodes(tree) if isinstance(n, ast.Call)
                       and _name(n.func) == "get_type_hints" and n.args}

    def annotations(self, tree: ast.Module) -> Iterator[tuple[ast.expr, str]]:
        """(annotation, who evaluates it) for every annotation evaluated at runtime."""
        for scope, owner in _scopes(tree):
            for node in scope:
                if isinstance(node, ast.AnnAssign):
                    who = self._who(owner, node)
                    if who:
                        yield node.annotation, who
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    who = self._who_function(node)
                    if who:
                        args = node.args
                        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                            if arg is not None and arg.annotation is not None:
                                yield arg.annotation, who
                        if node.returns is not None:
                            yield node.returns, who

    def _who(self, owner: ast.ClassDef | None, node: ast.AnnAssign) -> str:
        if owner is not None and (owner.name in self.model_classes or owner.name in self.hinted):
            return f"pydantic model {owner.name}" if owner.name in self.model_classes else \
                f"get_type_hints({owner.name})"
        return "" if self.postponed else ("the class body" if owner else "the module")

    def _who_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if _name(target) in ROUTE_DECORATORS:
                return f"@{ast.unparse(target)} (FastAPI/typer/pydantic read the signature)"
        if node.name in self.hinted:
            return f"get_type_hints({node.name})"
        return "" if self.postponed else f"def {node.name}"


def _name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _scopes(tree: ast.Module) -> Iterator[tuple[list[ast.stmt], ast.ClassDef | None]]:
    yield tree.body, None
    for node in all_nodes(tree):
        if isinstance(node, ast.ClassDef):
            yield node.body, node


def model_classes(trees: list[ast.Module]) -> set[str]:
    """Class names that are pydantic-style models, following subclasses across files."""
    bases = {n.name: {_name(b) for b in n.bases} for t in trees for n in all_nodes(t)
             if isinstance(n, ast.ClassDef)}
    found = set(MODEL_BASES)
    grew = True
    while grew:
        new = {name for name, parents in bases.items() if parents & found and name not in found}
        found |= new
        grew = bool(new)
    return found - MODEL_BASES


def _expanded(annotation: ast.expr) -> ast.expr:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return annotation
    return annotation


def _is_type_expr(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    if isinstance(node, ast.Name):
        return node.id in BUILTIN_TYPES
    if isinstance(node, ast.Subscript):
        return _is_type_expr(node.value)
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and _is_type_expr(node.left)


def _in_runtime_annotations(tree: ast.Module, runtime: RuntimeAnnotations,
                            matches: Callable[[ast.AST], bool]) -> Iterator[Finding]:
    """The first matching part of each annotation evaluated at runtime (string ones included)."""
    for annotation, who in runtime.annotations(tree):
        for node in ast.walk(_expanded(annotation)):
            if matches(node):
                yield annotation.lineno, f"`{ast.unparse(node)}` evaluated by {who}"
                break


@hazard("X | Y at runtime", (3, 10), "PEP 604 unions between types exist from Python 3.10; earlier "
        "they raise TypeError: unsupported operand type(s) for |",
        "write Optional[X] / Union[X, Y] (from typing), or raise the lowest Python to 3.10")
def _union(tree: ast.Module, runtime: RuntimeAnnotations) -> Iterator[Finding]:
    yield from _in_runtime_annotations(tree, runtime, lambda node: isinstance(node, ast.BinOp)
                                       and isinstance(node.op, ast.BitOr))
    annotation_nodes = {id(n) for a in _all_annotations(tree) for n in ast.walk(a)}
    for node in all_nodes(tree):
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and id(node) not in
                annotation_nodes and _is_type_expr(node.left) and _is_type_expr(node.right)):
            yield node.lineno, f"`{ast.unparse(node)}` evaluated as an expression"


def _all_annotations(tree: ast.Module) -> Iterator[ast.expr]:
    for node in all_nodes(tree):
        if isinstance(node, (ast.AnnAssign, ast.arg)):
            annotation = node.annotation
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotation = node.returns
        else:
            continue
        if annotation is not None:
            yield annotation


@hazard("builtin generics at runtime", (3, 9), "list[int], dict[str, X]... exist at runtime from "
        "Python 3.9 (PEP 585); earlier: TypeError: 'type' object is not subscriptable",
        "write List[int] / Dict[str, X] (from typing), or raise the lowest Python to 3.9")
def _generics(tree: ast.Module, runtime: RuntimeAnnotations) -> Iterator[Finding]:
    yield from _in_runtime_annotations(tree, runtime, lambda node: isinstance(node, ast.Subscript)
                                       and isinstance(node.value, ast.Name)
                                       and node.value.id in GENERIC_BUILTINS)


def _nodes(kind: type | tuple[type, ...], label: Callable[[Any], str]) -> Callable[
        [ast.Module, RuntimeAnnotations], Iterator[Finding]]:
    def find(tree: ast.Module, runtime: RuntimeAnnotations) -> Iterator[Finding]:
        for node in all_nodes(tree):
            if isinstance(node, kind):
                yield getattr(node, "lineno", 0), label(node)
    return find


hazard("match statement", (3, 10), "`match` is Python 3.10 syntax (PEP 634): a SyntaxError earlier",
       "rewrite as if/elif, or raise the lowest Python to 3.10")(
    _nodes(ast.Match, lambda n: f"`match {ast.unparse(n.subject)}:`"))
hazard("except*", (3, 11), "`except*` is Python 3.11 syntax (PEP 654)",
       "catch the ExceptionGroup with `except ExceptionGroup`, or raise the lowest Python to 3.11")(
    _nodes(getattr(ast, "TryStar", ()), lambda n: "`except*`"))  # ast.TryStar: Python 3.11+
hazard("walrus :=", (3, 8), "`:=` is Python 3.8 syntax (PEP 572)", "assign on its own line")(
    _nodes(ast.NamedExpr, lambda n: f"`{ast.unparse(n)}`"))

_PEP695 = re.compile(r"^\s*(?:type\s+\w+\s*(?:\[[^\]]*\])?\s*=|(?:async\s+)?def\s+\w+\s*\[|class\s+\w+\s*\[)")


def pep695_lines(source: str) -> list[Finding]:
    """PEP 695 lines found by their text (an interpreter older than 3.12 cannot parse them)."""
    return [(number, f"`{line.strip()[:60]}`") for number, line in enumerate(source.splitlines(), 1)
            if _PEP695.match(line)]


@hazard("PEP 695 type parameters", (3, 12), "`type X = ...`, `def f[T]()`, `class C[T]` are "
        "Python 3.12 syntax (PEP 695)", "use TypeVar / TypeAlias from typing (or typing_extensions), "
        "or raise the lowest Python to 3.12")
def _pep695(tree: ast.Module, runtime: RuntimeAnnotations) -> Iterator[Finding]:
    for node in all_nodes(tree):
        if type(node).__name__ == "TypeAlias" or getattr(node, "type_params", None):
            yield getattr(node, "lineno", 0), f"`{ast.unparse(node).splitlines()[0][:60]}`"


# name -> first Python that has it; a missing one is an ImportError / AttributeError at runtime
NEW_NAMES = {"typing.Self": (3, 11), "typing.TypeAlias": (3, 10), "typing.ParamSpec": (3, 10),
             "typing.TypeGuard": (3, 10), "typing.Concatenate": (3, 10), "typing.Never": (3, 11),
             "typing.Required": (3, 11), "typing.NotRequired": (3, 11), "typing.LiteralString": (3, 11),
             "typing.Unpack": (3, 11), "typing.assert_never": (3, 11), "typing.override": (3, 12),
             "typing.Annotated": (3, 9), "typing.Literal": (3, 8), "typing.Protocol": (3, 8),
             "typing.TypedDict": (3, 8), "typing.Final": (3, 8), "tomllib": (3, 11),
             "zoneinfo": (3, 9), "graphlib": (3, 9), "asyncio.to_thread": (3, 9),
             "asyncio.TaskGroup": (3, 11), "asyncio.timeout": (3, 11), "datetime.UTC": (3, 11),
             "enum.StrEnum": (3, 11), "itertools.pairwise": (3, 10), "itertools.batched": (3, 12),
             "contextlib.aclosing": (3, 10), "contextlib.chdir": (3, 11), "functools.cache": (3, 9)}


def names_used(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of stdlib names imported or reached as module attributes."""
    for node in all_nodes(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            yield node.lineno, f"{node.value.id}.{node.attr}"

"""Everything the checks look at, gathered once: the app, its imports and declared
dependencies, the executables found and what each interpreter reported.

    ex = Examination.gather(app, progress=print)
    ex.interpreters["/app/.venv/bin/python"].distributions
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kit.doctor.declared import Declared, declared_dependencies
from kit.doctor.import_guards import Conditions, conditions, guarded_lines, holds
from kit.doctor.interpreters import Discovery, Interpreter, discover, probe_all
from kit.doctor.project import AppProject, all_nodes

__all__ = ["SUPABASE_FAMILY", "Examination", "ImportSite", "app_imports"]

# supabase-py and the packages it pins (names as published on PyPI).
SUPABASE_FAMILY = ("supabase", "postgrest", "storage3", "supabase-auth", "gotrue", "realtime",
                   "supabase-functions", "supafunc")


@dataclass(frozen=True)
class ImportSite:
    module: str      # top-level name: "psycopg2"
    where: str       # "main.py:3"
    guarded: bool    # inside try/except ImportError or alike (the app runs without it)
    conditions: Conditions = ()  # sys.version_info / sys.platform tests it runs under

    def runs_on(self, interp: Interpreter) -> bool:
        """False when the import sits under a version or platform test false on ``interp``."""
        return holds(self.conditions, interp.data.get("markers", {})) is not False


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in all_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def app_imports(app: AppProject) -> list[ImportSite]:
    """Absolute imports of modules the app does not provide itself (stdlib included), outside
    test files."""
    local = app.local_modules
    sites: list[ImportSite] = []
    for path, tree in app.runtime_trees().items():
        guarded, typing_only, only_when = guarded_lines(tree), _type_checking_lines(tree), conditions(tree)
        for node in all_nodes(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            if node.lineno in typing_only:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in local and top != "__future__":
                    sites.append(ImportSite(top, app.where(path, node), node.lineno in guarded,
                                            only_when.get(node.lineno, ())))
    return sites


@dataclass
class Examination:
    app: AppProject
    discovery: Discovery
    interpreters: dict[str, Interpreter]
    declared: list[Declared] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    imports: list[ImportSite] = field(default_factory=list)

    @classmethod
    def gather(cls, app: AppProject, *, interpreter: str | None = None,
               progress: Callable[[str], None] = lambda _: None) -> Examination:
        progress("reading the app's files")
        declared, unreadable = declared_dependencies(app)
        imports = [s for s in app_imports(app) if s.module not in sys.stdlib_module_names]
        progress("finding interpreters")
        found = discover(app, interpreter=interpreter)
        modules = sorted({s.module for s in imports})
        interpreters = probe_all(found.interpreter_paths, modules=modules, env=app.env,
                                 family=list(SUPABASE_FAMILY), progress=progress)
        return cls(app, found, interpreters, declared, unreadable, imports)

    def working(self) -> list[Interpreter]:
        return [i for i in self.interpreters.values() if i.ok]

    def interpreter_of(self, path: str | None) -> Interpreter | None:
        return self.interpreters.get(path) if path else None

    def app_venv_interpreters(self) -> list[tuple[str, Interpreter]]:
        """The app's own environments, each once (the first label that found it)."""
        by_prefix: dict[str, tuple[str, Interpreter]] = {}
        for label, p in self.discovery.venvs:
            if p in self.interpreters and self.interpreters[p].ok:
                by_prefix.setdefault(self.interpreters[p].prefix, (label, self.interpreters[p]))
        return list(by_prefix.values())

    def same_environment(self, a: Interpreter | None, b: Interpreter | None) -> bool:
        return bool(a and b and a.ok and b.ok and Path(a.prefix) == Path(b.prefix))

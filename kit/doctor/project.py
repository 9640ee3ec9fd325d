"""The app under examination: its Python files (parsed once), its own module names, its
lowest supported Python and the virtual environments that belong to it.

    app = AppProject.load("path/to/app", env=os.environ)
    app.trees          # {Path: ast.Module} for every .py file that parsed
    app.lowest_python  # (3, 9) from requires-python, poetry, environment.yml or .python-version
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import UsageError

try:  # Python 3.11+; the kit still runs on 3.10, where tomli (if installed) reads TOML
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - only on 3.10
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

__all__ = ["SKIPPED_DIRS", "AppProject", "all_nodes", "load_toml", "lowest_version"]

SKIPPED_DIRS = frozenset({".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__",
                          "site-packages", ".tox", ".nox", ".kit", ".mypy_cache", ".pytest_cache",
                          ".ruff_cache", "build", "dist", ".eggs"})
MAX_FILES = 5000
_MINORS = range(6, 16)


def lowest_version(spec: str) -> tuple[int, int] | None:
    """The lowest 3.x a PEP 440 specifier admits: ``">=3.9,<4"`` → ``(3, 9)``; ``"3.9.7"`` → ``(3, 9)``."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    spec = spec.strip()
    exact = re.fullmatch(r"=*\s*(\d+)\.(\d+)(?:\.[\d*]+)?", spec)
    if exact:
        return int(exact.group(1)), int(exact.group(2))
    spec = re.sub(r"\^(\d+\.\d+)", r">=\1", spec)  # poetry's caret
    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    for minor in _MINORS:
        if any(specifiers.contains(f"3.{minor}.{patch}") for patch in (0, 99)):
            return 3, minor
    return None


def all_nodes(tree: ast.AST) -> list[ast.AST]:
    """``list(ast.walk(tree))``, computed once per tree (every check walks every file)."""
    nodes = getattr(tree, "_kit_nodes", None)
    if nodes is None:
        nodes = list(ast.walk(tree))
        tree._kit_nodes = nodes  # type: ignore[attr-defined]
    return nodes


def load_toml(text: str) -> dict[str, Any]:
    """Parse TOML; raises ValueError when it is invalid or no TOML reader is available."""
    if tomllib is None:
        raise ValueError("reading TOML needs Python 3.11 or the tomli package")
    return tomllib.loads(text)


def _python_from_environment_yml(text: str) -> str | None:
    match = re.search(r"^\s*-\s*python\s*([=<>!~][^\s#]*)", text, re.MULTILINE)
    return match.group(1).lstrip("=") if match else None


@dataclass
class AppProject:
    """An app folder, read once: files, syntax trees, settings."""

    root: Path
    env: Mapping[str, str]
    files: list[Path] = field(default_factory=list)
    trees: dict[Path, ast.Module] = field(default_factory=dict)
    sources: dict[Path, str] = field(default_factory=dict)
    syntax_errors: dict[Path, SyntaxError] = field(default_factory=dict)
    pyproject: dict[str, Any] = field(default_factory=dict)
    lowest_python: tuple[int, int] | None = None
    lowest_python_source: str = ""

    @classmethod
    def load(cls, path: str | os.PathLike[str] = ".", *, env: Mapping[str, str] | None = None,
             python: str | None = None) -> AppProject:
        """Read the app at ``path``; ``python`` ("3.9") overrides its declared lowest Python.

        Raises ``UsageError`` when ``path`` is not a directory or ``python`` is not a version.
        """
        root = Path(path).expanduser().resolve()
        if not root.is_dir():
            raise UsageError(f"{path} is not a directory", fix="give the app's folder: kit doctor PATH")
        parsed = lowest_version(python) if python is not None else None
        if python is not None and parsed is None:
            raise UsageError(f"--python {python!r} is not a Python version",
                             fix="give one like 3.9 or '>=3.9'")
        app = cls(root, os.environ if env is None else env)
        app.pyproject = app._read_toml("pyproject.toml")
        app._read_sources()
        if parsed is not None:
            app.lowest_python, app.lowest_python_source = parsed, "--python"
        else:
            app._find_lowest_python()
        return app

    def runtime_trees(self) -> dict[Path, ast.Module]:
        """The trees of files the app runs: test files (``tests/``, ``test_*.py``,
        ``conftest.py``) import test tools and read test variables, so they are left out."""
        return {path: tree for path, tree in self.trees.items() if not self.is_test_file(path)}

    def is_test_file(self, path: Path) -> bool:
        parts = Path(self.rel(path)).parts
        return bool({"tests", "test", "testing"} & set(parts[:-1])) or path.name == "conftest.py" \
            or path.name.startswith("test_") or path.name.endswith("_test.py")

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def where(self, path: Path, node: ast.AST | int) -> str:
        line = node if isinstance(node, int) else getattr(node, "lineno", 0)
        return f"{self.rel(path)}:{line}"

    def _read_toml(self, name: str) -> dict[str, Any]:
        try:
            return load_toml((self.root / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _walk(self) -> Iterator[Path]:
        for folder, dirs, names in os.walk(self.root):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")
                             and not (here / d / "pyvenv.cfg").exists()
                             and not (here / d / "conda-meta").is_dir())
            for name in sorted(names):
                if name.endswith(".py"):
                    yield here / name

    def _read_sources(self) -> None:
        for path in self._walk():
            if len(self.files) >= MAX_FILES:
                break
            self.files.append(path)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            self.sources[path] = text
            try:
                self.trees[path] = ast.parse(text, filename=str(path))
            except SyntaxError as exc:
                self.syntax_errors[path] = exc

    @property
    def local_modules(self) -> set[str]:
        """Names the app's own files and folders provide (``main``, ``utils``, ``db``...)."""
        names: set[str] = set()
        for path in self.files:  # a script's folder is on sys.path when it runs, so any folder counts
            parts = path.relative_to(self.root).parts
            names.update(parts[:-1])
            names.add(path.stem)
        return names

    def _find_lowest_python(self) -> None:
        project = self.pyproject.get("project", {})
        poetry = self.pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {})
        candidates: list[tuple[str | None, str]] = [
            (project.get("requires-python"), "pyproject.toml requires-python"),
            (poetry.get("python") if isinstance(poetry.get("python"), str) else None,
             "pyproject.toml [tool.poetry.dependencies] python")]
        for name in ("environment.yml", "environment.yaml"):
            if (self.root / name).is_file():
                candidates.append((_python_from_environment_yml((self.root / name).read_text(
                    encoding="utf-8", errors="replace")), f"{name} python"))
        for name in (".python-version", "runtime.txt"):
            if (self.root / name).is_file():
                text = (self.root / name).read_text(errors="replace").strip().removeprefix("python-")
                candidates.append((text.splitlines()[0] if text else None, name))
        for spec, source in candidates:
            found = lowest_version(spec) if spec else None
            if found and spec:
                self.lowest_python, self.lowest_python_source = found, f"{source} {spec.strip()!r}"
                return

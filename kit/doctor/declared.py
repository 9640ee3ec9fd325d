"""The app's declared dependencies, from every file that can declare them.

    for dep in declared_dependencies(app):
        dep.requirement      # packaging Requirement("httpx>=0.28")
        dep.source           # "requirements.txt:4"

Readers register in ``DEPENDENCY_FILES`` (file name pattern -> reader); each returns
``(requirement text, line, file)``. Conda specs in environment.yml are read as PEP 508
where they translate (``name=1.2`` → ``name==1.2.*``); ``python`` itself is not a package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from kit.doctor.project import AppProject, load_toml

__all__ = ["DEPENDENCY_FILES", "Declared", "declared_dependencies"]

Reader = Callable[[Path], Iterator[tuple[str, int, Path]]]  # (requirement, line, file)
DEPENDENCY_FILES: dict[str, Reader] = {}
_NOT_PACKAGES = {"python", "pip"}


@dataclass(frozen=True)
class Declared:
    requirement: Requirement
    source: str  # "requirements.txt:4"
    file: str    # "requirements.txt"


def reader(pattern: str) -> Callable[[Reader], Reader]:
    def add(function: Reader) -> Reader:
        DEPENDENCY_FILES[pattern] = function
        return function
    return add


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return 0


@reader("pyproject.toml")
def _pyproject(path: Path) -> Iterator[tuple[str, int, Path]]:
    text = path.read_text(encoding="utf-8")
    data = load_toml(text)
    for item in data.get("project", {}).get("dependencies", []):
        yield item, _line_of(text, item), path
    for name, spec in data.get("tool", {}).get("poetry", {}).get("dependencies", {}).items():
        version = spec.get("version", "*") if isinstance(spec, dict) else str(spec)
        yield f"{name}{_poetry_spec(version)}", _line_of(text, f"{name} "), path


def _poetry_spec(version: str) -> str:
    version = version.strip()
    if version in ("", "*"):
        return ""
    caret = re.fullmatch(r"\^(\d+)(\.\d+)*", version)
    if caret:
        major = int(caret.group(1))
        return f">={version[1:]},<{major + 1}" if major else f">={version[1:]}"
    tilde = re.fullmatch(r"~(\d+)\.(\d+)(\.\d+)?", version)
    if tilde:
        return f">={version[1:]},<{tilde.group(1)}.{int(tilde.group(2)) + 1}"
    return version if version[0] in "<>=!~" else f"=={version}"


@reader("requirements*.txt")
def _requirements_file(path: Path) -> Iterator[tuple[str, int, Path]]:
    return _requirements(path, set())


def _requirements(path: Path, seen: set[Path]) -> Iterator[tuple[str, int, Path]]:
    """Lines of a requirements file, following ``-r other.txt`` (each file once)."""
    if path in seen or not path.is_file():
        return
    seen.add(path)
    for number, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = raw.split(" #")[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            yield from _requirements(path.parent / line.split(maxsplit=1)[1], seen)
        elif line.startswith("-e ") and "#egg=" in line:
            yield line.split("#egg=")[1], number, path
        elif line and not line.startswith(("#", "-", ".", "/")) and "://" not in line.split("@")[0]:
            yield line, number, path


@reader("Pipfile")
def _pipfile(path: Path) -> Iterator[tuple[str, int, Path]]:
    text = path.read_text(encoding="utf-8")
    for name, spec in load_toml(text).get("packages", {}).items():
        version = spec.get("version", "*") if isinstance(spec, dict) else str(spec)
        yield f"{name}{'' if version == '*' else version}", _line_of(text, name), path


@reader("environment.y*ml")
def _environment_yml(path: Path) -> Iterator[tuple[str, int, Path]]:
    in_pip = in_dependencies = False
    for number, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        key = re.match(r"^([A-Za-z_]+)\s*:", raw)
        if key:
            in_dependencies = key.group(1) == "dependencies"
            continue
        item = re.match(r"^(\s*)-\s*([^#]+?)\s*(?:#.*)?$", raw)
        if not in_dependencies or (item and item.group(2).startswith("-")):
            continue
        if not item:
            in_pip = in_pip and raw.startswith("  ")
            continue
        text = item.group(2)
        if text.rstrip(":") == "pip" and text.endswith(":"):
            in_pip = True
            continue
        if in_pip and len(item.group(1)) >= 4:
            yield text, number, path
            continue
        in_pip = False
        conda = text.split("::")[-1]
        name = re.split(r"[=<>!\s]", conda, maxsplit=1)[0]
        spec = conda[len(name):].strip()
        if spec.startswith("=") and not spec.startswith("=="):
            spec = f"=={spec.lstrip('=')}" + ("" if "*" in spec else ".*")
        yield f"{name}{spec.replace(' ', '')}", number, path


def declared_dependencies(app: AppProject) -> tuple[list[Declared], list[str]]:
    """Every declared dependency (first declaration of each name) and the lines that could
    not be read (``file:line text``)."""
    found: dict[str, Declared] = {}  # canonical name -> first declaration
    unreadable: list[str] = []
    for pattern, read in DEPENDENCY_FILES.items():
        for path in sorted(app.root.glob(pattern)) + sorted(app.root.glob(f"requirements/{pattern}")
                                                            if pattern.startswith("req") else []):
            rel = app.rel(path)
            try:
                items = list(read(path))
            except (OSError, ValueError) as exc:
                unreadable.append(f"{rel}: {exc}")
                continue
            for text, line, source in items:
                where = app.rel(source)
                try:
                    requirement = Requirement(text)
                except InvalidRequirement:
                    unreadable.append(f"{where}:{line} {text!r}")
                    continue
                key = canonicalize_name(requirement.name)
                if key not in _NOT_PACKAGES and key not in found:
                    found[key] = Declared(requirement, f"{where}:{line}", where)
    return list(found.values()), unreadable

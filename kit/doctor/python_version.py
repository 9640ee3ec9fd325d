"""Python-version checks: hazards (``kit.doctor.hazards``) the app's lowest supported Python
cannot run, reported by file and line, and interpreters older than that Python.

    python_version_checks(ex)   # [DoctorCheck("python", "X | Y at runtime", "fail", ..., where="a.py:7")]

The lowest Python comes from ``--python``, else requires-python (pyproject, poetry,
environment.yml, .python-version); when none is declared, from the oldest interpreter found.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kit.doctor.examination import Examination
from kit.doctor.hazards import (
    HAZARDS,
    NEW_NAMES,
    RuntimeAnnotations,
    model_classes,
    names_used,
    pep695_lines,
)
from kit.doctor.import_guards import conditions, guarded_lines, holds
from kit.doctor.model import FAIL, INFO, OK, WARN, DoctorCheck

__all__ = ["MAX_PER_HAZARD", "lowest_python", "python_version_checks"]

SECTION = "python"
MAX_PER_HAZARD = 20


def _v(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def lowest_python(ex: Examination) -> tuple[tuple[int, int] | None, str]:
    """(lowest version, where it was read) — declared, else the oldest interpreter found."""
    if ex.app.lowest_python:
        return ex.app.lowest_python, ex.app.lowest_python_source
    versions = sorted((i.version_tuple, i.path) for i in ex.working())
    if versions:
        return versions[0][0], f"the oldest interpreter found ({versions[0][1]}); none declared"
    return None, ""


def _hazard_checks(ex: Examination, lowest: tuple[int, int], source: str) -> list[DoctorCheck]:
    models = model_classes(list(ex.app.trees.values()))
    checks: list[DoctorCheck] = []
    counts: dict[str, int] = {}

    def add(name: str, path: Path, line: int, seen: str, why: str, fix: str) -> None:
        counts[name] = counts.get(name, 0) + 1
        test = ex.app.is_test_file(path)  # the tests break on that Python, the app does not
        if counts[name] <= MAX_PER_HAZARD:
            checks.append(DoctorCheck(SECTION, name, WARN if test else FAIL,
                                      f"{'a test file ' if test else ''}{seen}; lowest supported "
                                      f"Python is {_v(lowest)} ({source}): {why}", fix,
                                      ex.app.where(path, line)))

    at_lowest = {"python_full_version": _v(lowest)}
    for path, tree in ex.app.trees.items():
        runtime = RuntimeAnnotations(tree, models)
        for h in HAZARDS.values():
            if lowest < h.since:
                for line, seen in h.find(tree, runtime):
                    add(h.name, path, line, seen, h.why, h.fix)
        guarded, only_when = guarded_lines(tree), conditions(tree)
        for line, name in names_used(tree):
            since = NEW_NAMES.get(name)
            if since and lowest < since and line not in guarded and \
                    holds(only_when.get(line, ()), at_lowest) is not False:
                add(f"{name} (Python {_v(since)}+)", path, line, f"uses {name}",
                    f"{name} exists from Python {_v(since)}; earlier it is an ImportError or "
                    "AttributeError", "import it from typing_extensions or a backport, or raise the "
                    f"lowest Python to {_v(since)}")
    pep695 = HAZARDS["PEP 695 type parameters"]
    for path, error in ex.app.syntax_errors.items():
        found = pep695_lines(ex.app.sources.get(path, ""))
        if found and lowest < pep695.since:
            for line, seen in found:
                add(pep695.name, path, line, seen, pep695.why, pep695.fix)
        elif not found:
            running = f"{sys.version_info[0]}.{sys.version_info[1]}"
            checks.append(DoctorCheck(SECTION, "syntax error", FAIL if lowest <= sys.version_info[:2]
                                      else WARN, f"{error.msg} (parsed with Python {running})",
                                      "fix the syntax; the app cannot import this file",
                                      ex.app.where(path, error.lineno or 0)))
    for name, count in counts.items():
        if count > MAX_PER_HAZARD:
            checks.append(DoctorCheck(SECTION, name, FAIL, f"…and {count - MAX_PER_HAZARD} more "
                                      "places", "see the lines above: the same fix applies"))
    return checks


def python_version_checks(ex: Examination) -> list[DoctorCheck]:
    lowest, source = lowest_python(ex)
    if lowest is None:
        return [DoctorCheck(SECTION, "lowest Python", WARN, "no requires-python declared and no "
                            "interpreter found", "declare requires-python in pyproject.toml "
                            "or pass --python 3.X")]
    checks = [DoctorCheck(SECTION, "lowest Python", OK if ex.app.lowest_python else INFO,
                          f"{_v(lowest)} from {source}",
                          "" if ex.app.lowest_python else "declare `requires-python = \">=3.X\"` in "
                          "pyproject.toml so every tool agrees")]
    hazards = _hazard_checks(ex, lowest, source)
    checks += hazards
    if not hazards:
        checks.append(DoctorCheck(SECTION, "hazards", OK, f"{len(ex.app.trees)} files run on Python "
                                  f"{_v(lowest)} as far as syntax and runtime annotations tell"))
    for interp in ex.working():
        if interp.version_tuple < lowest:
            checks.append(DoctorCheck(SECTION, f"interpreter {interp.path}", WARN,
                                      f"Python {interp.version} is older than the lowest supported "
                                      f"{_v(lowest)} ({source})",
                                      "do not run the app with it; use a newer interpreter's venv"))
    return checks

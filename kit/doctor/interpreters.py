"""Which Pythons the app could be run by: every ``python``, ``python3``, ``uvicorn``,
``gunicorn``, ``celery``, ``pip`` on PATH and in the app's virtual environments, which
interpreter each console script really runs (its shebang), and what each interpreter has.

    found = discover(app)                    # Executables + venv interpreters
    found = discover(app, interpreter=sys.executable)   # + the Python the app is known to run with
    interpreters = probe_all(found.interpreter_paths, modules=["psycopg2"], family=["supabase"],
                             env=app.env)

Each interpreter is asked by running ``probe.py``'s text inside it (``python -c``, from an
empty folder, with the app's environment: PYTHONPATH and user site-packages count, as they
do when the app runs, but no folder's modules shadow anything), so the doctor needs nothing
installed there. Facts: pip writes console scripts with an absolute
shebang (``#!/path/venv/bin/python``), or for long paths a ``#!/bin/sh`` line followed by
``'''exec' "/path/python" "$0" "$@"`` (pip's distlib launcher).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from kit.doctor.project import AppProject

__all__ = [
    "TOOL_NAMES",
    "VENV_LOCATORS",
    "Discovery",
    "Executable",
    "Interpreter",
    "discover",
    "probe_all",
    "read_shebang",
]

TOOL_NAMES = ("python", "python3", "uvicorn", "gunicorn", "celery", "pip", "pip3")
GIVEN_INTERPRETER = "the kit's own Python"  # discover()'s label for ``interpreter=sys.executable``
PROBE = Path(__file__).with_name("probe.py")
_SH_EXEC = re.compile(rb"'''exec' \"?([^\"\s]+)")
_SHELLS = {"sh", "bash", "dash", "zsh"}


@dataclass(frozen=True)
class Executable:
    """``uvicorn`` at ``/opt/homebrew/bin/uvicorn`` (PATH entry 2), running ``runs``."""

    name: str
    path: str
    place: str            # "PATH #2" or the venv's label (".venv", "$CONDA_PREFIX")
    runs: str | None      # the interpreter it starts; None when it cannot be told
    how: str              # binary | shebang | env | sh-exec | wrapper
    first: bool = False   # the one a bare command name runs (first on PATH)


@dataclass
class Interpreter:
    """What ``probe.py`` reported for one interpreter (or why it could not run)."""

    path: str
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def version(self) -> str:
        return str(self.data.get("version", "?"))

    @property
    def version_tuple(self) -> tuple[int, int]:
        major, minor = (self.version.split(".") + ["0", "0"])[:2]
        return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else (0, 0)

    @property
    def prefix(self) -> str:
        return str(self.data.get("prefix", ""))

    @property
    def is_venv(self) -> bool:
        return self.prefix != self.data.get("base_prefix", self.prefix)

    @property
    def lists_packages(self) -> bool:
        """False before Python 3.8 (no importlib.metadata): its packages are unknown, not missing."""
        return self.data.get("distributions") is not None

    @property
    def distributions(self) -> dict[str, tuple[str, str]]:
        """canonical name -> (name, version)."""
        return {canonicalize_name(d["name"]): (d["name"], d["version"])
                for d in self.data.get("distributions") or []}

    def requires_of(self, name: str) -> list[str]:
        for d in self.data.get("distributions") or []:
            if canonicalize_name(d["name"]) == canonicalize_name(name):
                return list(d.get("requires") or [])
        return []

    def has_module(self, module: str) -> bool:
        return bool(self.data.get("modules", {}).get(module))

    def label(self) -> str:
        kind = "venv" if self.is_venv else "conda" if Path(self.prefix, "conda-meta").is_dir() else "system"
        return f"{self.path} (Python {self.version}, {kind} {self.prefix})"


@dataclass
class Discovery:
    executables: list[Executable] = field(default_factory=list)
    venvs: list[tuple[str, str]] = field(default_factory=list)  # (label, python path)

    @property
    def interpreter_paths(self) -> list[str]:
        paths = [python for _, python in self.venvs]
        paths += [e.runs for e in self.executables if e.runs and Path(e.runs).exists()]
        return list(dict.fromkeys(paths))

    def first(self, name: str) -> Executable | None:
        return next((e for e in self.executables if e.name == name and e.first), None)


def read_shebang(path: Path, env: Mapping[str, str]) -> tuple[str, str | None]:
    """``(how, interpreter)`` for an executable file: what running it really starts."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(2048)
    except OSError:
        return "wrapper", None
    if not head.startswith(b"#!"):
        return "binary", str(path)
    parts = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    if not parts:
        return "wrapper", None
    program = Path(parts[0]).name
    if program == "env":
        args = [p for p in parts[1:] if not p.startswith("-") and "=" not in p]
        program = Path(args[0]).name if args else ""
        if program not in _SHELLS:
            return "env", shutil.which(program, path=env.get("PATH", "")) if program else None
    if program in _SHELLS:
        launcher = _SH_EXEC.search(head)
        return ("sh-exec", launcher.group(1).decode()) if launcher else ("wrapper", None)
    return "shebang", parts[0]


def _venv_python(folder: Path) -> str | None:
    for candidate in (folder / "bin" / "python", folder / "bin" / "python3", folder / "python.exe"):
        if candidate.exists():
            return str(candidate)
    return None


def _in_app(app: AppProject) -> Iterable[tuple[str, Path]]:
    for child in sorted(app.root.iterdir()):
        if child.is_dir() and ((child / "pyvenv.cfg").exists() or (child / "conda-meta").is_dir()):
            yield app.rel(child), child


def _from_env(app: AppProject) -> Iterable[tuple[str, Path]]:
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PROJECT_ENVIRONMENT"):
        if app.env.get(name):
            yield f"${name}", app.root / app.env[name]  # absolute values stay absolute


def _from_pyproject(app: AppProject) -> Iterable[tuple[str, Path]]:
    pyright = app.pyproject.get("tool", {}).get("pyright", {})
    if pyright.get("venv"):
        yield "[tool.pyright] venv", app.root / pyright.get("venvPath", ".") / pyright["venv"]
    mypy = app.pyproject.get("tool", {}).get("mypy", {})
    if mypy.get("python_executable"):
        yield "[tool.mypy] python_executable", (app.root / mypy["python_executable"]).parent.parent
    for name, settings in app.pyproject.get("tool", {}).get("hatch", {}).get("envs", {}).items():
        if isinstance(settings, dict) and settings.get("path"):
            yield f"[tool.hatch.envs.{name}] path", app.root / settings["path"]


def _managed(app: AppProject) -> Iterable[tuple[str, Path]]:
    """Environments kept outside the folder by poetry, pipenv and conda (environment.yml's name).

    Facts: poetry keeps ``<cache>/pypoetry/virtualenvs/<name>-<hash>-py3.X``; pipenv
    ``~/.local/share/virtualenvs/<folder>-<hash>``; conda ``<root>/envs/<name>``.
    """
    home = Path(app.env.get("HOME", "~")).expanduser()
    poetry_name = app.pyproject.get("tool", {}).get("poetry", {}).get("name") or \
        app.pyproject.get("project", {}).get("name")
    if "poetry" in app.pyproject.get("tool", {}) and poetry_name:
        slug = re.sub(r"[^a-z0-9]+", "-", str(poetry_name).lower())
        for cache in (home / ".cache", home / "Library" / "Caches"):
            for folder in sorted((cache / "pypoetry" / "virtualenvs").glob(f"{slug}-*-py3*")):
                yield f"poetry {folder.name}", folder
    if (app.root / "Pipfile").is_file():
        for folder in sorted((home / ".local" / "share" / "virtualenvs").glob(f"{app.root.name}-*")):
            yield f"pipenv {folder.name}", folder
    for spec in ("environment.yml", "environment.yaml"):
        named = re.search(r"^name:\s*(\S+)", _text(app.root / spec), re.MULTILINE)
        if not named:
            continue
        roots = [Path(app.env["CONDA_EXE"]).parent.parent] if app.env.get("CONDA_EXE") else []
        roots += [home / d for d in ("miniconda3", "anaconda3", "miniforge3", "mambaforge")]
        roots.append(Path("/opt/conda"))
        for root in roots:
            if (root / "envs" / named.group(1) / "conda-meta").is_dir():
                yield f"conda env {named.group(1)} ({spec})", root / "envs" / named.group(1)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# Where an app's own environments are found; each yields (label, folder).
VENV_LOCATORS: list[Callable[[AppProject], Iterable[tuple[str, Path]]]] = [
    _in_app, _from_env, _from_pyproject, _managed]


def _identity(python: str) -> tuple[str, str]:
    """One interpreter by two names (``.venv/bin/python``, ``.venv/bin/python3.11``; ``/bin``
    and ``/usr/bin``) has one identity. The folder counts: a venv's python links to its base
    interpreter but is another environment."""
    return os.path.realpath(Path(python).parent), os.path.realpath(python)


def _same_file(a: str, b: str) -> bool:
    return _identity(a) == _identity(b)


def discover(app: AppProject, *, interpreter: str | None = None) -> Discovery:
    """Every tool of ``TOOL_NAMES`` on PATH and in the app's environments. ``interpreter`` is
    a Python the app is known to run with (``sys.executable`` when the kit runs in the app's
    environment), one of its environments even when no locator finds it; listed once when
    one does."""
    found = Discovery()
    for locate in VENV_LOCATORS:
        try:
            located = list(locate(app))
        except OSError:  # an unreadable folder hides its environments, it does not stop the doctor
            continue
        for label, folder in located:
            python = _venv_python(folder)
            if python and not any(_same_file(python, p) for _, p in found.venvs):
                found.venvs.append((label, python))
    if interpreter and Path(interpreter).is_file() and \
            not any(_same_file(interpreter, p) for _, p in found.venvs):
        found.venvs.append((GIVEN_INTERPRETER, interpreter))
    places = [(f"PATH #{i}", Path(d)) for i, d in enumerate(app.env.get("PATH", "").split(os.pathsep), 1) if d]
    places += [(label, Path(python).parent) for label, python in found.venvs]
    seen_files: set[str] = set()
    for name in TOOL_NAMES:
        first = True
        for place, folder in places:
            candidate = folder / name
            if not (candidate.is_file() and os.access(candidate, os.X_OK)) or str(candidate) in seen_files:
                continue
            seen_files.add(str(candidate))
            how, runs = read_shebang(candidate, app.env)
            if name.startswith("python"):
                how, runs = ("binary" if how == "binary" else "wrapper"), str(candidate)
            is_path = place.startswith("PATH")
            found.executables.append(Executable(name, str(candidate), place, runs, how,
                                                first=first and is_path))
            first = first and not is_path
    return found


def probe(python: str, modules: list[str], family: list[str], *, env: Mapping[str, str] | None = None,
          timeout: float = 30.0) -> Interpreter:
    """Run ``probe.py`` in ``python``; an interpreter that fails is reported, not raised."""
    asked = json.dumps({"modules": modules, "family": family})
    try:
        with tempfile.TemporaryDirectory(prefix="kit-doctor-") as empty:
            done = subprocess.run([python, "-c", PROBE.read_text(), asked], capture_output=True,
                                  text=True, timeout=timeout, check=False, cwd=empty,
                                  env=None if env is None else dict(env), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Interpreter(python, error=f"could not run: {type(exc).__name__}: {exc}")
    if done.returncode != 0 and "SyntaxError" in done.stderr:
        return Interpreter(python, error="too old to run the probe (Python 2 or before 3.6): "
                                         "supabase-py needs Python 3.8+")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return Interpreter(python, error=f"exited {done.returncode}: {last}")
    try:
        return Interpreter(python, data=json.loads(done.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return Interpreter(python, error="printed no JSON (is it a Python interpreter?)")


def probe_all(paths: list[str], *, modules: list[str], family: list[str],
              env: Mapping[str, str] | None = None,
              progress: Callable[[str], None] = lambda _: None) -> dict[str, Interpreter]:
    """Probe every interpreter (two at a time); ``progress`` hears each one's path."""
    def one(path: str) -> Interpreter:
        progress(f"probing {path}")
        return probe(path, modules, family, env=env)

    same: dict[tuple[str, str], list[str]] = {}  # one interpreter by several names is asked once
    for path in paths:
        same.setdefault(_identity(path), []).append(path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(one, [group[0] for group in same.values()]))
    return {path: Interpreter(path, answer.data, answer.error)
            for group, answer in zip(same.values(), answers, strict=True) for path in group}

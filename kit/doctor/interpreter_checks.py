"""Interpreter checks: which Python each command really runs, whether they agree, and the
one command that runs the app from one environment.

    interpreter_checks(ex)   # environments, broken shebangs, tools that run another Python
    run_command(ex)          # ".venv/bin/python -m uvicorn main:app"

Why it matters (seeds/001): ``uvicorn`` from Homebrew's Python 3.11 and ``python`` from
anaconda 3.9 loaded different packages; ``python -m uvicorn`` always uses the interpreter
it is started with.
"""

from __future__ import annotations

import ast
from pathlib import Path

from kit.doctor.examination import Examination
from kit.doctor.interpreters import Executable, Interpreter
from kit.doctor.model import FAIL, INFO, OK, WARN, DoctorCheck
from kit.doctor.packages import best_interpreter, gaps

__all__ = ["APP_FACTORIES", "app_entry_point", "interpreter_checks", "run_command"]

SECTION = "interpreters"
# constructor name -> how ``python -m`` runs an object made by it ({module}, {name})
APP_FACTORIES = {
    "FastAPI": "uvicorn {module}:{name}", "Starlette": "uvicorn {module}:{name}",
    "Quart": "uvicorn {module}:{name}", "Litestar": "uvicorn {module}:{name}",
    "Flask": "flask --app {module}:{name} run", "Celery": "celery -A {module} worker",
}
_TOOLS_THAT_RUN_THE_APP = ("uvicorn", "gunicorn", "celery", "pip", "pip3")


def _factory_called(node: ast.AST) -> str:
    """``FastAPI`` when ``node`` is a call of one of APP_FACTORIES, else ''."""
    if not isinstance(node, ast.Call):
        return ""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name if name in APP_FACTORIES else ""


def _app_objects(tree: ast.Module) -> list[tuple[str, str, bool]]:
    """(name, factory, is_factory_function): ``app = FastAPI()`` or ``def create_app(): ... FastAPI()``."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and \
                _factory_called(node.value):
            found.append((node.targets[0].id, _factory_called(node.value), False))
        elif isinstance(node, ast.FunctionDef) and len(node.args.defaults) == len(node.args.args) and \
                all(d is not None for d in node.args.kw_defaults):  # callable with no arguments
            made = next((f for n in ast.walk(node) if (f := _factory_called(n))), "")
            if made and any(isinstance(n, ast.Return) for n in ast.walk(node)):
                found.append((node.name, made, True))
    return sorted(found, key=lambda item: item[2])  # an app object beats a factory function


def app_entry_point(ex: Examination) -> tuple[str, str] | None:
    """``("main:app", "uvicorn main:app")`` for the first module-level ``app = FastAPI()``
    (shallowest file first), else ``uvicorn --factory main:create_app`` for a function that
    builds and returns one."""
    for path, tree in sorted(ex.app.runtime_trees().items(), key=lambda kv: (len(kv[0].parts), kv[0])):
        for name, factory, is_function in _app_objects(tree):
            rel = Path(ex.app.rel(path)).with_suffix("")
            parts = rel.parts[1:] if rel.parts[0] == "src" else rel.parts
            module = ".".join(parts).removesuffix(".__init__")
            command = APP_FACTORIES[factory].format(module=module, name=name)
            if is_function and command.startswith("uvicorn "):
                command = command.replace("uvicorn ", "uvicorn --factory ", 1)
            return f"{module}:{name}", command
    return None


def run_command(ex: Examination) -> str:
    """The exact command that runs the app from the interpreter that lacks the least."""
    best = best_interpreter(ex)
    entry = app_entry_point(ex)
    if best is None or entry is None:
        return ""
    command = f"{best.path} -m {entry[1]}"
    tool = entry[1].split()[0]
    if not best.has_module(tool) and tool not in {k for k in best.distributions}:
        command = f"{best.path} -m pip install {tool} && {command}"
    return command


def _users(ex: Examination, interp: Interpreter) -> str:
    names = [f"{e.name} ({e.place})" for e in ex.discovery.executables
             if e.runs == interp.path or ex.same_environment(ex.interpreter_of(e.runs), interp)]
    return ", ".join(dict.fromkeys(names)) or "no command on PATH"


def _environment_checks(ex: Examination) -> list[DoctorCheck]:
    checks, seen = [], set()
    for interp in ex.interpreters.values():
        if not interp.ok:
            checks.append(DoctorCheck(SECTION, f"interpreter {interp.path}", WARN, interp.error,
                                      "remove it from PATH or reinstall it"))
        elif interp.prefix not in seen:
            seen.add(interp.prefix)
            checks.append(DoctorCheck(SECTION, f"environment {interp.prefix}", INFO,
                                      f"{interp.label()}; used by: {_users(ex, interp)}"))
    return checks


def _broken(exe: Executable) -> DoctorCheck | None:
    if exe.runs and not Path(exe.runs).exists():
        return DoctorCheck(SECTION, f"{exe.name} at {exe.path}", FAIL,
                           f"its first line names {exe.runs}, which does not exist (the environment "
                           "was moved or deleted); running it fails with 'bad interpreter'",
                           f"reinstall it into a live environment (`python -m pip install "
                           f"--force-reinstall {exe.name.rstrip('3')}`) or run `python -m {exe.name.rstrip('3')}`")
    if exe.runs is None and exe.first:
        return DoctorCheck(SECTION, f"{exe.name} at {exe.path}", INFO,
                           "a wrapper script; which Python it runs cannot be told from its first line",
                           f"prefer `python -m {exe.name.rstrip('3')}` so the interpreter is explicit")
    return None


def _agreement(ex: Examination) -> list[DoctorCheck]:
    reference = ex.discovery.first("python") or ex.discovery.first("python3")
    ref_interp = ex.interpreter_of(reference.runs if reference else None)
    checks: list[DoctorCheck] = []
    if reference is None or ref_interp is None or not ref_interp.ok:
        return checks
    for name in ("python3", *_TOOLS_THAT_RUN_THE_APP):
        exe = ex.discovery.first(name)
        interp = ex.interpreter_of(exe.runs if exe else None)
        if exe is None or exe is reference or interp is None or not interp.ok:
            continue
        if ex.same_environment(interp, ref_interp):
            checks.append(DoctorCheck(SECTION, f"{name} on PATH", OK,
                                      f"{exe.path} runs {interp.path}, the same environment as "
                                      f"`{reference.name}` ({ref_interp.prefix})"))
            continue
        lacking = gaps(ex, interp).size
        consequence = (f"`{name} install` puts packages where `{reference.name}` does not look"
                       if name.startswith("pip") else
                       f"`{name} ...` and `{reference.name} -m {name} ...` load different packages")
        checks.append(DoctorCheck(
            SECTION, f"{name} on PATH", FAIL if name in _TOOLS_THAT_RUN_THE_APP else WARN,
            f"{exe.path} runs {interp.label()} ({exe.how}), but `{reference.name}` on PATH is "
            f"{ref_interp.label()}: {consequence}"
            + (f" (it lacks {lacking} of what the app declares or imports)" if lacking else ""),
            (f"use `{ref_interp.path} -m pip install ...`, never a bare `{name}`"
             if name.startswith("pip") else
             f"run `{run_command(ex) or f'<your venv>/bin/python -m {name} ...'}` instead of a bare "
             f"`{name}`, or remove the other installation from PATH")))
    for label, interp in ex.app_venv_interpreters():
        if not ex.same_environment(interp, ref_interp):
            checks.append(DoctorCheck(SECTION, f"app environment {label}", WARN,
                                      f"{label} ({interp.label()}) is not the active environment: "
                                      f"`{reference.name}` on PATH is {ref_interp.path}",
                                      f"`source {Path(interp.path).parent}/activate`, or call "
                                      f"{interp.path} explicitly"))
    return checks


def _duplicates(ex: Examination) -> list[DoctorCheck]:
    checks = []
    for name in ("python", "python3", *_TOOLS_THAT_RUN_THE_APP):
        on_path = [e for e in ex.discovery.executables if e.name == name and e.place.startswith("PATH")]
        if len({e.runs for e in on_path}) > 1:
            listed = "; ".join(f"{e.path} → {e.runs or '?'}" for e in on_path)
            checks.append(DoctorCheck(SECTION, f"{name} appears {len(on_path)} times on PATH", INFO,
                                      f"the first wins: {listed}"))
    return checks


def interpreter_checks(ex: Examination) -> list[DoctorCheck]:
    checks = _environment_checks(ex)
    checks += [c for c in (_broken(e) for e in ex.discovery.executables) if c]
    checks += _agreement(ex)
    checks += _duplicates(ex)
    command = run_command(ex)
    if command:
        checks.append(DoctorCheck(SECTION, "run command", INFO, command,
                                  "use this exact command: one interpreter, its own packages"))
    elif not ex.working():
        checks.append(DoctorCheck(SECTION, "interpreters", FAIL, "no working Python interpreter found "
                                  "on PATH or in the app's folder", "install Python and create a venv: "
                                  "python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt"))
    return checks

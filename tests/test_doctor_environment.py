"""kit doctor on real interpreters: two venvs with different packages, a console script whose
shebang runs the other venv, an import no interpreter has (seeds/001), a mismatched
supabase-py family. Venvs are made with ``python -m venv --without-pip`` and minimal
dist-info metadata, so the test is fast and offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kit.doctor import doctor
from kit.doctor.interpreters import read_shebang
from kit.doctor.model import FAIL, INFO, OK, WARN


def make_venv(folder: Path, packages: dict[str, tuple[str, list[str]]]) -> Path:
    """A real venv with ``packages``: dist name -> (version, importable modules)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = next((folder / "lib").glob("python3*/site-packages"))
    for name, (version, modules) in packages.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        requires = "".join(f"Requires-Dist: {r}\n" for r in modules if " " in r or "=" in r)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{requires}")
        for module in (m for m in modules if " " not in m and "=" not in m):
            (site / module).mkdir(exist_ok=True)
            (site / module / "__init__.py").write_text("")
    return folder / "bin" / "python"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


APP = {
    "pyproject.toml": '[project]\nname = "chat"\nrequires-python = ">=3.9"\n'
                      'dependencies = ["fastapi>=0.100", "pydantic>=2", "psycopg2-binary>=2.9", "supabase"]\n',
    "main.py": "from fastapi import FastAPI\nimport psycopg2\nfrom utils.cors_config import Settings\n\n"
               "app = FastAPI()\n",
    "utils/__init__.py": "",
    "utils/cors_config.py": "from pydantic import BaseModel\n\n\nclass Settings(BaseModel):\n"
                            "    allowed_origin: str | None = None\n",
}


@pytest.fixture(scope="module")
def seed001(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The checkpoint-001 machine: the app's .venv ("anaconda") and another venv ("brew") whose
    uvicorn is the one on PATH."""
    root = tmp_path_factory.mktemp("doctor-env")
    app = write(root / "app", APP)
    app_python = make_venv(app / ".venv", {
        "fastapi": ("0.110.0", ["fastapi"]), "pydantic": ("2.5.0", ["pydantic"]),
        "uvicorn": ("0.30.0", ["uvicorn"]),
        "supabase": ("2.34.1", ["supabase", "postgrest==2.34.1"]), "postgrest": ("0.16.0", ["postgrest"])})
    brew_python = make_venv(root / "brew", {
        "fastapi": ("0.95.0", ["fastapi"]), "pydantic": ("2.5.0", ["pydantic"]),
        "uvicorn": ("0.29.0", ["uvicorn"])})
    tools = app_python.parent  # the app's bin folder holds a uvicorn that really runs brew's Python
    (tools / "uvicorn").write_text(f"#!{brew_python}\nimport sys\nfrom uvicorn.main import main\n"
                                   "sys.exit(main())\n")
    (tools / "uvicorn").chmod(0o755)
    env = {"PATH": str(tools), "HOME": str(root)}
    report = doctor(app, env=env, reachability=False)
    return {"report": report, "app_python": str(app_python), "brew_python": str(brew_python), "app": app}


def test_console_script_running_another_venv_fails_with_the_one_command_fix(seed001):
    report, app_python, brew_python = seed001["report"], seed001["app_python"], seed001["brew_python"]
    [check] = report.find("interpreters", "uvicorn on PATH")
    assert check.status == FAIL
    assert f"runs {brew_python}" in check.evidence and "load different packages" in check.evidence
    assert f"`python` on PATH is {app_python}" in check.evidence
    assert f"{app_python} -m uvicorn main:app" in check.fix
    assert report.run_command == f"{app_python} -m uvicorn main:app"


def test_each_interpreter_lists_what_it_lacks(seed001):
    report, app_python, brew_python = seed001["report"], seed001["app_python"], seed001["brew_python"]
    [mine] = report.find("packages", f"in {app_python}")
    assert "missing: psycopg2-binary>=2.9 (pyproject.toml:4)" in mine.evidence
    assert "cannot import: psycopg2 (main.py:2)" in mine.evidence
    # the app's own venv lacks only psycopg2, which no environment has: it fails once, there
    assert mine.status == INFO and "`import psycopg2` fails in its own row" in mine.evidence
    assert mine.fix == "" and report.find("packages", "import psycopg2")[0].status == FAIL
    [brew] = report.find("packages", f"in {brew_python}")
    assert brew.status == FAIL  # what the bare `uvicorn` runs
    assert "fastapi 0.95.0 where pyproject.toml:4 wants >=0.100" in brew.evidence


def test_import_no_interpreter_has_names_the_distribution(seed001):
    [check] = seed001["report"].find("packages", "import psycopg2")
    assert check.status == FAIL and check.where == "main.py:2"
    assert "none of the 2 Python environments found has it" in check.evidence
    assert "declared at pyproject.toml:4 but not installed" in check.evidence
    assert "pip install psycopg2-binary" in check.fix and "pg_config" in check.fix


def test_supabase_family_mismatch(seed001):
    [check] = seed001["report"].find("packages", "supabase-py family")
    assert check.status == FAIL
    assert "postgrest 0.16.0 (supabase 2.34.1 wants ==2.34.1)" in check.evidence
    assert "supabase==2.34.1" in check.fix


def test_union_in_pydantic_model_reported_by_file_and_line(seed001):
    [check] = seed001["report"].find("python", "X | Y at runtime")
    assert check.status == FAIL and check.where == "utils/cors_config.py:5"
    assert "`str | None` evaluated by pydantic model Settings" in check.evidence
    assert "3.9 (pyproject.toml requires-python '>=3.9')" in check.evidence
    assert "Optional[X]" in check.fix


def test_report_displays_itself_and_exits_1(seed001):
    report = seed001["report"]
    assert report.exit_code == 1
    assert repr(report).startswith(f"<DoctorReport {seed001['app']}: ") and "failed" in repr(report)
    bundle = report._repr_mimebundle_()
    assert bundle["text/plain"] == str(report)
    assert "uvicorn on PATH" in str(report) and "fix: " in str(report)
    assert "<table class='kit-doctor-checks'>" in bundle["text/html"]
    assert report.to_dict()["counts"]["fail"] == len(report.failed)


def test_shebangs_of_every_kind(tmp_path: Path):
    env = {"PATH": str(tmp_path)}
    python = tmp_path / "python3"
    python.write_bytes(b"\x7fELF fake binary")
    python.chmod(0o755)
    cases = {"plain": ("#!/opt/venv/bin/python\n", ("shebang", "/opt/venv/bin/python")),
             "env": ("#!/usr/bin/env python3\n", ("env", str(python))),
             "pip-long-path": ("#!/bin/sh\n'''exec' \"/very/long/venv/bin/python\" \"$0\" \"$@\"\n' '''\n",
                               ("sh-exec", "/very/long/venv/bin/python")),
             "shim": ("#!/usr/bin/env bash\nexec pyenv exec python \"$@\"\n", ("wrapper", None)),
             "binary": (None, ("binary", None))}
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        if text is None:
            path.write_bytes(b"\x7fELF")
            expected = ("binary", str(path))
        else:
            path.write_text(text)
        assert read_shebang(path, env) == expected, name


def test_console_script_of_a_deleted_venv(tmp_path: Path):
    app = write(tmp_path / "app", {"main.py": "print('hi')\n"})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "celery").write_text(f"#!{tmp_path}/gone/bin/python\n")
    (bin_dir / "celery").chmod(0o755)
    report = doctor(app, env={"PATH": str(bin_dir)}, reachability=False)
    [check] = report.find("interpreters", "celery at")
    assert check.status == FAIL and "does not exist" in check.evidence
    assert "python -m celery" in check.fix


def test_app_venv_that_is_not_active_is_a_warning(seed001, tmp_path: Path):
    other = make_venv(tmp_path / "other", {})
    report = doctor(seed001["app"], env={"PATH": str(other.parent)}, reachability=False)
    [check] = report.find("interpreters", "app environment .venv")
    assert check.status == WARN and f"`python` on PATH is {other}" in check.evidence
    assert "activate" in check.fix
    [ok] = report.find("interpreters", "python3 on PATH")
    assert ok.status == OK


def test_probe_runs_on_old_pythons_and_ours():
    """probe.py runs inside the app's interpreters, which may be as old as 3.6."""
    import ast
    import json

    from kit.doctor.interpreters import PROBE, probe

    ast.parse(PROBE.read_text(), feature_version=(3, 6))
    here = probe(sys.executable, ["json", "no_such_module_kit"], ["pytest"])
    assert here.ok and here.version == ".".join(map(str, sys.version_info[:3]))
    assert here.data["modules"] == {"json": True, "no_such_module_kit": False}
    assert "pytest" in here.distributions and here.requires_of("pytest")
    assert json.loads(json.dumps(here.data)) == here.data


def test_pip_of_another_environment_and_an_app_factory(tmp_path: Path):
    app = write(tmp_path / "app", {"service/__init__.py": "",
                                   "service/factory.py": ("from starlette.applications import Starlette\n\n"
                                                          "def create_app():\n    app = Starlette()\n"
                                                          "    return app\n")})
    mine = make_venv(app / ".venv", {"starlette": ("0.40.0", ["starlette"]), "uvicorn": ("0.30.0", ["uvicorn"])})
    other = make_venv(tmp_path / "other", {})
    (mine.parent / "pip").write_text(f"#!/bin/sh\n'''exec' \"{other}\" \"$0\" \"$@\"\n' '''\n")
    (mine.parent / "pip").chmod(0o755)
    report = doctor(app, env={"PATH": str(mine.parent)}, reachability=False)
    [pip] = report.find("interpreters", "pip on PATH")
    assert pip.status == FAIL and "(sh-exec)" in pip.evidence
    assert "`pip install` puts packages where `python` does not look" in pip.evidence
    assert pip.fix == f"use `{mine} -m pip install ...`, never a bare `pip`"
    assert report.run_command == f"{mine} -m uvicorn --factory service.factory:create_app"


def test_environments_kept_outside_the_app_by_poetry_pipenv_conda_and_tool_settings(tmp_path: Path):
    from kit.doctor.interpreters import discover
    from kit.doctor.project import AppProject

    home = tmp_path / "home"
    app = write(tmp_path / "chat-api", {
        "pyproject.toml": ('[tool.poetry]\nname = "Chat API"\n[tool.pyright]\nvenvPath = "envs"\n'
                           'venv = "dev"\n[tool.hatch.envs.test]\npath = ".hatch/test"\n'),
        "Pipfile": "[packages]\n", "environment.yml": "name: chat\ndependencies:\n  - python=3.11\n"})
    poetry = make_venv(home / ".cache" / "pypoetry" / "virtualenvs" / "chat-api-Xy12AbCd-py3.11", {})
    pipenv = make_venv(home / ".local" / "share" / "virtualenvs" / "chat-api-Q1w2E3r4", {})
    conda = make_venv(home / "miniforge3" / "envs" / "chat", {})
    (conda.parent.parent / "conda-meta").mkdir()
    pyright = make_venv(app / "envs" / "dev", {})
    hatch = make_venv(app / ".hatch" / "test", {})
    found = discover(AppProject.load(app, env={"PATH": "", "HOME": str(home)})).venvs
    assert found == [("[tool.pyright] venv", str(pyright)), ("[tool.hatch.envs.test] path", str(hatch)),
                     ("poetry chat-api-Xy12AbCd-py3.11", str(poetry)),
                     ("pipenv chat-api-Q1w2E3r4", str(pipenv)),
                     ("conda env chat (environment.yml)", str(conda))]


OPTIONAL_IMPORTS = (  # every kind of optional import; the app's venv has none of them
    "import sys\nimport contextlib\nimport importlib.util\n"
    "try:\n    import ujson as json_impl\nexcept (ImportError, AttributeError):\n    json_impl = None\n"
    "with contextlib.suppress(ModuleNotFoundError):\n    import orjson\n"
    "if importlib.util.find_spec('uvloop'):\n    import uvloop\n"
    "if sys.version_info >= (3, 99):\n    import future_only\nelse:\n    import fastapi\n"
    "if sys.version_info[:2] < (3, 8):\n    import importlib_metadata\n"
    "if sys.platform == 'no-such-os':\n    import colorama\n")


@pytest.mark.parametrize("venv_kind", ["in the folder", "$VIRTUAL_ENV"])
def test_the_app_venv_is_judged_and_another_python_lacking_packages_is_info(tmp_path: Path,
                                                                            venv_kind: str):
    """A `python` first on PATH (pyenv's, the system's) that lacks the app's packages does not
    run the app when the app has its own environment: information, never a failure. Optional
    imports of any kind that the venv lacks are information too."""
    app = write(tmp_path / "app", {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi"]\n',
                                   "main.py": OPTIONAL_IMPORTS})
    folder = app / ".venv" if venv_kind == "in the folder" else tmp_path / "elsewhere"
    mine = make_venv(folder, {"fastapi": ("0.110.0", ["fastapi"])})
    system = make_venv(tmp_path / "system", {})
    env = {"PATH": str(system.parent), "HOME": str(tmp_path)}
    if venv_kind == "$VIRTUAL_ENV":
        env["VIRTUAL_ENV"] = str(folder)
    report = doctor(app, env=env, reachability=False)
    [other] = report.find("packages", f"in {system}")
    assert other.status == INFO and "missing: fastapi" in other.evidence
    [venv] = report.find("packages", f"in {mine}")
    assert venv.status == INFO and "cannot import" not in venv.evidence
    assert "optional imports it lacks" in venv.evidence
    for module in ("ujson", "orjson", "uvloop"):
        assert module in venv.evidence
        [nobody] = report.find("packages", f"import {module}")
        assert nobody.status == INFO
    for module in ("future_only", "importlib_metadata", "colorama"):  # never run on this Python
        assert module not in venv.evidence and not report.find("packages", f"import {module}")
    assert report.failed == [] and report.exit_code == 0


@pytest.mark.parametrize("kind", ["two imports no environment has", "an import only another has",
                                  "healthy"])
def test_one_problem_is_one_fail(tmp_path: Path, kind: str):
    """An import no environment has fails once, in its `import X` row; the interpreter row
    fails only for what no other row reports; the headline counts each problem once."""
    main = {"two imports no environment has": "import sys\nimport also_gone\nif sys.version_info >= (3, 8):\n"
                                              "    import needed_here\n",
            "an import only another has": "import fastapi\nimport needed_here\n",
            "healthy": "import fastapi\n"}[kind]
    app = write(tmp_path / "app", {"main.py": main})
    mine = make_venv(app / ".venv", {"fastapi": ("0.110.0", ["fastapi"])} if kind == "healthy" else {})
    other = make_venv(tmp_path / "other", {"fastapi": ("0.110.0", ["fastapi"])})
    report = doctor(app, env={"PATH": f"{mine.parent}:{other.parent}"}, reachability=False)
    [venv] = report.find("packages", f"in {mine}")
    expected = {"two imports no environment has": ["import also_gone", "import needed_here"],
                "an import only another has": [venv.name, "import needed_here"], "healthy": []}[kind]
    assert [c.name for c in report.failed] == expected
    assert f"{len(expected)} failed" in str(report).splitlines()[0]
    if kind == "two imports no environment has":
        assert venv.status == INFO and "cannot import: also_gone (main.py:2), needed_here (main.py:4)" in \
            venv.evidence
        assert "`import also_gone`, `import needed_here` fail in their own rows" in venv.evidence
    elif kind == "an import only another has":  # fastapi is this row's own problem
        assert "cannot import: fastapi (main.py:1), needed_here (main.py:2); `import needed_here` fails" \
            in venv.evidence
        assert venv.fix == f"{mine} -m pip install fastapi needed-here"
    else:
        assert venv.status == OK and report.exit_code == 0


def test_the_python_the_app_runs_with_is_one_of_its_environments_once(tmp_path: Path):
    """`python -m kit doctor` runs in the app's environment (``interpreter=sys.executable``):
    that Python counts even when neither PATH nor the app's folder leads to it, and an
    environment reached by several ways (a symlinked $VIRTUAL_ENV, another name) is one row."""
    app = write(tmp_path / "app", {"main.py": "import fastapi\n"})
    kits = make_venv(tmp_path / "kit-env", {"fastapi": ("0.110.0", ["fastapi"])})
    system = make_venv(tmp_path / "system", {})
    report = doctor(app, env={"PATH": str(system.parent)}, reachability=False, interpreter=str(kits))
    assert report.failed == []  # not "none of the 1 Python environments found has fastapi"
    [row] = report.find("interpreters", f"environment {kits.parent.parent}")
    assert "the kit's own Python" in row.evidence
    assert report.find("packages", f"in {kits}")[0].status == OK
    assert report.find("packages", f"in {system}")[0].status == INFO

    mine = make_venv(app / ".venv", {"fastapi": ("0.110.0", ["fastapi"])})
    (tmp_path / "link").symlink_to(app)
    report = doctor(app, env={"PATH": str(system.parent), "VIRTUAL_ENV": str(tmp_path / "link" / ".venv")},
                    reachability=False, interpreter=str(mine.parent / "python3"))
    assert len(report.find("interpreters", "environment ")) == 2  # the app's .venv and system's
    [warning] = report.find("interpreters", "app environment")
    assert warning.name == "app environment .venv" and warning.status == WARN

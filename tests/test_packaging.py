"""Packaging promises: environment.yml matches pyproject.toml, the facade is tidy, notebooks are clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

import kit

try:  # the kit supports Python 3.10 (requires-python), where pytest itself depends on tomli
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - only on 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI names
CONDA_NAMES = {"nest-asyncio": "nest-asyncio", "pyyaml": "pyyaml"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {_name(r) for r in dep["pip"] if not r.startswith("-e")}
        else:
            conda.add(_name(dep))
    conda -= {"python", "pip"}
    assert conda | pip == wanted
    assert not conda & pip
    assert "-e ." in next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    design_card = {"jupyterlab", "ipywidgets", "supabase", "pandas", "nest-asyncio", "papermill"}
    assert design_card <= wanted


def test_facade_all_is_sorted_and_every_name_resolves():
    assert kit.__all__ == sorted(kit.__all__)
    assert set(kit._LAZY) <= set(kit.__all__)
    for name in kit.__all__:
        assert getattr(kit, name) is not None, name


def test_import_kit_stays_light():
    import subprocess
    import sys

    code = ("import sys, kit; heavy = [m for m in ('pandas', 'matplotlib', 'IPython', 'nbconvert', "
            "'papermill') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_notebooks_are_committed_without_outputs_and_with_a_parameters_cell():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path.name
        assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb["cells"]), path.name


def test_gitignore_keeps_generated_files_out():
    ignored = (REPO / ".gitignore").read_text().split()
    assert {".venv/", ".kit/", "reports/"} <= set(ignored)


def test_ci_runs_the_readme_test_command():
    readme_head = "\n".join((REPO / "README.md").read_text().splitlines()[:40])
    assert "make report" in readme_head and "make test" in readme_head
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_facade_functions_survive_their_submodules_being_imported_first():
    import subprocess
    import sys

    code = ("import kit.clients, kit.diff.engine, kit.explain.registry, kit.scan.cli, kit.doctor.cli, kit; "
            "print(kit.clients.__module__, kit.diff.__module__, kit.explain.__module__, callable(kit.scan), "
            "kit.doctor.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["kit.clients", "kit.diff.engine", "kit.explain", "True", "kit.doctor.run"]

"""Every notebook under papermill, with a second parameter set (diagnostics/stress.yaml).

The defaults run in tests/test_report.py's full report; here `kit report --profile stress`
runs each notebook with more concurrency and other fault profiles, and each notebook's
checks must pass (expected failures of the broken variants included).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def stress_report(stack, stack_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("stress-reports")
    done = subprocess.run([sys.executable, "-m", "kit", "report", "--profile", "stress", "--out", str(out),
                           "--stack-dir", str(stack_dir), "--progress", "lines"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    return done, out / "latest"


def test_the_stress_profile_runs_every_notebook_and_all_checks_pass(stress_report):
    done, report = stress_report
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((report / "summary.json").read_text())
    ran = {nb["name"]: nb for nb in summary["notebooks"]}
    assert sorted(ran) == NOTEBOOKS
    for name, nb in ran.items():
        assert nb["status"] == "executed", (name, nb)
        assert nb["checks"], f"{name} recorded no checks"


def test_the_stress_parameters_reached_the_notebooks(stress_report):
    _, report = stress_report
    executed = json.loads((report / "01_storage_download.ipynb").read_text())
    injected = next(c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    source = "".join(injected["source"])
    assert "concurrency = 12" in source and 'fault_profile = "edge-html-under-load"' in source


def test_notebooks_contain_no_logic():
    """Notebooks are documents: a parameters cell, markdown, and calls into kit."""
    import ast

    for path in (REPO / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            tree = ast.parse("".join(cell["source"]))
            banned = [type(n).__name__ for n in ast.walk(tree)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For,
                                        ast.While, ast.Try, ast.AsyncFor, ast.With))]
            assert not banned, (path.name, banned, "".join(cell["source"]))


def test_notebook_04_explains_the_report_it_made(stress_report):
    """kit.explain(report) with exchanges never answers "nothing to explain was given"."""
    _, report = stress_report
    executed = json.loads((report / "04_diff_your_own_call.ipynb").read_text())
    cell = next(c for c in executed["cells"] if "".join(c["source"]).strip() == "kit.explain(report)")
    text = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"])
    assert text and "nothing to explain was given" not in text
    assert "evidence:" in text and "installed: supabase" in text

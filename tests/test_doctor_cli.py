"""``kit doctor`` on the command line and ``diagnostics/doctor``: output formats, exit codes,
progress on stderr, and a section that cannot run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kit.cli import main as kit_main
from kit.doctor import doctor
from kit.doctor.cli import main
from kit.doctor.model import ERROR
from kit.doctor.run import SECTIONS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def quiet_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No interpreter on PATH: the CLI's checks stay on the app's code (fast, no network)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    app = tmp_path / "app"
    app.mkdir()
    return app


def test_json_for_ci_and_exit_1_on_a_failed_check(quiet_path: Path, capsys: pytest.CaptureFixture[str]):
    (quiet_path / "router.py").write_text("def route(cmd):\n    match cmd:\n        case _:\n            pass\n")
    assert kit_main(["doctor", str(quiet_path), "--python", "3.9", "--no-network", "--format", "json"]) == 1
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["exit_code"] == 1 and data["lowest_python"] == "3.9"
    [match] = [c for c in data["checks"] if c["name"] == "match statement"]
    assert match["where"] == "router.py:2" and match["status"] == "fail"
    assert err == ""  # not a terminal: no progress unless asked


def test_clean_app_exits_0_and_progress_lines_on_request(quiet_path: Path,
                                                          capsys: pytest.CaptureFixture[str]):
    (quiet_path / "main.py").write_text("print('hello')\n")
    os.symlink(sys.executable, Path(os.environ["PATH"]) / "python")  # one working interpreter
    assert main([str(quiet_path), "--python", "3.11", "--no-network", "--progress", "lines"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith(f"kit doctor {quiet_path}: ")
    assert out.rstrip().endswith("exit 0: nothing failed")
    assert "(the kit's own Python)" in out  # `python -m kit doctor` runs in the app's environment
    assert "kit doctor: reading the app's files" in err and "kit doctor: checking python" in err


@pytest.mark.parametrize("argv, message", [
    (["/no/such/folder"], "is not a directory"),
    ([".", "--python", "banana"], "--python 'banana' is not a Python version"),
    ([".", "--health", "localhost:8000"], "is not an http(s) URL"),
    ([".", "--timeout", "0"], "--timeout must be positive"),
    ([".", "--format", "xml"], "invalid choice"),
])
def test_bad_arguments_exit_3_with_one_line(argv: list[str], message: str,
                                            capsys: pytest.CaptureFixture[str]):
    assert main(argv) == 3
    assert message in capsys.readouterr().err


def test_a_section_that_cannot_run_is_an_error_and_exit_2(quiet_path: Path):
    def broken(ex, options):
        raise RuntimeError("cannot read the moon")

    SECTIONS["broken"] = broken
    try:
        report = doctor(quiet_path, env={"PATH": ""}, reachability=False)
    finally:
        del SECTIONS["broken"]
    [check] = report.errors
    assert check.status == ERROR and "RuntimeError: cannot read the moon" in check.evidence
    assert report.exit_code == 2 and len(report.section("python")) >= 1  # the others still ran


def test_diagnostics_script_runs_from_anywhere(tmp_path: Path):
    (tmp_path / "main.py").write_text("import os\nURL = os.environ.get('SUPABASE_URL', '')\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KIT_PYTHON": os.environ.get(
        "KIT_PYTHON", str(REPO / ".venv" / "bin" / "python"))}
    done = subprocess.run([str(REPO / "diagnostics" / "doctor"), "--no-network", "--format", "json",
                           "--python", "3.10"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    data = json.loads(done.stdout)
    assert done.returncode == data["exit_code"], done.stderr
    assert data["path"] == "." and data["lowest_python"] == "3.10"
    assert any(c["name"] == "SUPABASE_URL" for c in data["checks"])


def test_diagnostics_script_does_not_lend_the_kit_to_the_apps_interpreters(tmp_path: Path):
    # the app imports kit; /usr/bin's python3 does not have it: the wrapper must not make it look found
    (tmp_path / "main.py").write_text("import kit\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KIT_PYTHON": os.environ.get(
        "KIT_PYTHON", str(REPO / ".venv" / "bin" / "python"))}
    done = subprocess.run([str(REPO / "diagnostics" / "doctor"), "--no-network", "--format", "json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    data = json.loads(done.stdout)
    system = [c for c in data["checks"] if c["name"].startswith("in /usr/bin/python3")]
    assert system and all("cannot import: kit" in c["evidence"] for c in system), system
    assert "the kit's own Python" not in done.stdout  # the wrapper runs the kit from outside

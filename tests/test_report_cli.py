"""``kit report`` arguments and exit codes that need no notebook run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kit.cli import main as kit_main
from kit.report.cli import main
from kit.report.profiles import known_profiles

REPO = Path(__file__).resolve().parents[1]


def test_help_documents_every_flag_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for flag in ("--profile", "--only", "--jobs", "--timeout", "--baseline", "--out"):
        assert flag in text
    for line in ("0  all checks passed", "1  a check failed", "2  a notebook failed to execute",
                 "3  bad arguments or profile"):
        assert line in text


def test_unknown_profile_is_one_line_listing_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert kit_main(["report", "--profile", "nightly"]) == 3
    known = ", ".join(known_profiles())
    assert {"embedded", "local", "remote"} <= set(known_profiles())
    assert capsys.readouterr().err == f"kit report: unknown profile 'nightly'; known profiles: {known}\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["--jobs", "0"], "kit report: --jobs must be positive, got 0\n"),
    (["--timeout", "-1"], "kit report: --timeout must be positive, got -1\n"),
])
def test_bad_numbers_exit_3(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 3
    assert capsys.readouterr().err == message


def test_unparseable_arguments_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--jobs", "many"]) == 3
    assert "invalid int value: 'many'" in capsys.readouterr().err


def test_remote_profile_without_its_env_vars_exits_3(tmp_path: Path) -> None:
    (tmp_path / "a.ipynb").write_text("{}")
    profile = tmp_path / "remote.yaml"
    profile.write_text("target: remote\nnotebook_dir: .\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "kit", "report", "--profile", str(profile),
                           "--out", str(tmp_path / "reports")], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 3
    assert done.stderr.strip() == (
        "kit report: environment variable SUPABASE_URL is not set (profile remote reads the "
        "remote target from it). Fix: export SUPABASE_URL=... before running the report")
    assert not (tmp_path / "reports").exists()


def test_only_with_unknown_notebook_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("notebooks: [a.ipynb]\n")
    assert main(["--profile", str(profile), "--only", "zz", "--out", str(tmp_path)]) == 3
    assert "--only 'zz' is not a notebook of profile p; known: a" in capsys.readouterr().err


def test_script_wrapper_runs_the_same_command() -> None:
    done = subprocess.run([str(REPO / "diagnostics" / "report"), "--help"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0 and "3  bad arguments or profile" in done.stdout


def test_import_kit_stays_light_and_report_names_resolve_lazily() -> None:
    code = ("import sys, kit\n"
            "heavy = [m for m in ('papermill', 'nbconvert', 'IPython', 'yaml') if m in sys.modules]\n"
            "assert heavy == [], heavy\n"
            "from kit.report.run import run_report\n"
            "assert kit.report.run_report is run_report and kit.record is kit.report.record\n"
            "print(kit.report.load_profile('embedded').target)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "embedded"), done.stderr

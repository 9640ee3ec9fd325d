"""``kit report`` arguments and exit codes that need no notebook run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from kit.cli import main as kit_main
from kit.report.cli import main
from kit.report.parameters import declared_parameters, parse_assignments
from kit.report.profiles import ProfileError, known_profiles
from kit.report.run import user_code_paths
from kit.targets import Target

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


PARAMETERS = ("target", "url_env", "key_env", "anon_key_env", "db_url_env", "concurrency")


def _notebook(path: Path, names: tuple[str, ...] = PARAMETERS) -> Path:
    source = "".join(f"{name} = None\n" for name in names)
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                                           "source": source, "outputs": [], "execution_count": None}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _report(tmp_path: Path, profile_text: str, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    _notebook(tmp_path / "a.ipynb")
    profile = tmp_path / "p.yaml"
    profile.write_text(profile_text + "notebook_dir: .\n")
    return subprocess.run([sys.executable, "-m", "kit", "report", "--profile", str(profile),
                           "--out", str(tmp_path / "reports"), *args], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **(env or {})},
                          cwd=tmp_path, timeout=120, check=False)


def test_remote_profile_without_its_env_vars_exits_3(tmp_path: Path) -> None:
    done = _report(tmp_path, "target: remote\n")
    assert done.returncode == 3
    assert done.stderr.strip() == ("kit report: SUPABASE_URL is not set. Fix: export "
                                   "SUPABASE_URL=https://<project-ref>.supabase.co")
    assert not (tmp_path / "reports").exists()


def test_wrong_key_is_one_line_naming_the_variable_before_any_kernel(stack: Target,
                                                                      tmp_path: Path) -> None:
    other = jwt.encode({"role": "service_role"}, "not-this-stack-secret-0123456789", algorithm="HS256")
    done = _report(tmp_path, "target: local\n", env={"API_URL": stack.url, "SERVICE_ROLE_KEY": other})
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [
        f"kit report: {stack.url} rejected the key from env SERVICE_ROLE_KEY (HTTP 401: Invalid API "
        "key). Fix: put the project's anon or service_role key (Settings → API) in SERVICE_ROLE_KEY"]
    assert "…" not in done.stderr and other not in done.stderr
    assert not (tmp_path / "reports").exists()


def test_unknown_parameters_list_the_known_ones(tmp_path: Path) -> None:
    done = _report(tmp_path, "notebooks:\n  - notebook: a.ipynb\n    parameters: {concurency: 4}\n")
    assert done.returncode == 3
    assert done.stderr.strip() == (
        "kit report: notebook a has no parameter 'concurency' (did you mean 'concurrency'?); its "
        f"parameters: {', '.join(PARAMETERS)}. Fix: fix the name in the profile or in -p NAME=VALUE")
    done = _report(tmp_path, "", "-p", "concurrency=4", "-p", "sead=3")
    assert done.returncode == 3 and "has no parameter 'sead'; its parameters: target," in done.stderr
    _notebook(tmp_path / "a.ipynb", ("concurrency",))  # the target's own parameters go only where declared
    done = subprocess.run([sys.executable, "-m", "kit", "report", "--profile", str(tmp_path / "p.yaml"),
                           "-p", "sead=3"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=False)
    assert "has no parameter 'sead'; its parameters: concurrency." in done.stderr


def test_parameter_assignments_are_read_as_yaml_and_keys_are_refused() -> None:
    assert parse_assignments(["concurrency=4", "modes=[sync, async]", "seed=007", "name='x=1'",
                              "empty="]) == {"concurrency": 4, "modes": ["sync", "async"],
                                             "seed": 7, "name": "x=1", "empty": ""}
    with pytest.raises(ProfileError, match=r"-p 'concurrency' is not NAME=VALUE"):
        parse_assignments(["concurrency"])
    token = jwt.encode({"role": "anon"}, "s" * 32, algorithm="HS256")
    with pytest.raises(ProfileError, match="parameter 'key' holds a key-shaped value"):
        parse_assignments([f"key={token}"])


def test_declared_parameters_come_from_the_parameters_cell() -> None:
    assert declared_parameters(REPO / "notebooks" / "04_diff_your_own_call.ipynb")[:7] == [
        "target", "url_env", "key_env", "anon_key_env", "db_url_env", "stack_dir", "operation"]


def test_user_code_paths_are_the_folder_and_its_project_root(tmp_path: Path) -> None:
    inner = tmp_path / "app" / "services"
    inner.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    assert user_code_paths(inner) == [str(inner.resolve()), str(tmp_path.resolve())]


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


def test_a_long_cell_error_keeps_its_fix_whole() -> None:
    from kit.report.worker import _one_line

    fix = "pass allow_writes=True (a notebook and profile parameter) to let it write there"
    line = _one_line("cell 4: WritesRefused: refusing <html>" + "x" * 5000 + f"</html>. Fix: {fix}")
    assert line.endswith(f"more characters] Fix: {fix}")
    assert "…" not in line and "more characters]" in line and len(line) < 400
    assert _one_line("short\nerror") == "short error"

"""Which embedded stack the kit uses, said whenever it is not the obvious one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import kit
from kit.report.profiles import parse_profile
from kit.report.run import kernel_environment
from kit.stack.process import announce
from kit.targets import Target


def test_announce_is_silent_only_for_this_folders_own_stack(tmp_path: Path) -> None:
    own = Target("embedded", "http://127.0.0.1:5", "a", stack_dir=str(tmp_path / ".kit" / "stack"))
    out = io.StringIO()
    announce(own, "reused", cwd=tmp_path, stream=out)
    assert out.getvalue() == ""
    announce(own, "started", cwd=tmp_path, stream=out)
    elsewhere = Target("embedded", "http://127.0.0.1:6", "a", stack_dir="/srv/app/.kit/stack")
    announce(elsewhere, "reused", cwd=tmp_path, stream=out)
    assert out.getvalue().splitlines() == [
        f"kit: started the embedded stack in {tmp_path}/.kit/stack at http://127.0.0.1:5 "
        "(KIT_STACK_DIR or stack_dir= picks another)",
        "kit: reused the embedded stack in /srv/app/.kit/stack at http://127.0.0.1:6 "
        "(KIT_STACK_DIR or stack_dir= picks another)"]


def test_a_stack_named_by_stack_dir_or_env_is_used_and_said(stack: Target, stack_dir: Path,
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # another working directory, with no stack of its own
    named = kit.target("embedded", stack_dir=stack_dir)
    assert (named.url, named.stack_dir) == (stack.url, str(stack_dir))
    monkeypatch.setenv("KIT_STACK_DIR", str(stack_dir))
    assert kit.target("embedded").url == stack.url
    said = capsys.readouterr().err.splitlines()
    assert said == [f"kit: reused the embedded stack in {stack_dir} at {stack.url} "
                    "(KIT_STACK_DIR or stack_dir= picks another)"] * 2
    assert not (tmp_path / ".kit").exists()  # no second, empty stack was started
    assert named.describe()["stack_dir"] == str(stack_dir)


def test_report_kernels_get_the_runners_stack(stack: Target, stack_dir: Path) -> None:
    profile = parse_profile("target: embedded\nnotebooks: []\n", name="e")
    kernel = kernel_environment(profile, base_env={"PYTHONPATH": "/x"}, stack_dir=stack_dir,
                                cwd=Path("/"))
    assert kernel.env["KIT_STACK_DIR"] == str(stack_dir)
    assert kernel.env["PYTHONPATH"] == "/" + ":/x"
    assert kernel.target["stack_dir"] == str(stack_dir)

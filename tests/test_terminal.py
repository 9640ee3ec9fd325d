"""What a person sees in a terminal: plain help, quiet pipes, `kit stack` alone, make lab as root,
no checkpoint folders or outputs in git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kit.cli import STACK_ACTIONS, main

REPO = Path(__file__).resolve().parents[1]


def _kit_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kit ARGS`` with stdout a pipe nobody reads (its read end closed first),
    as ``| head`` is once head has exited: every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "kit", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=120)
    finally:
        os.close(write_end)


def test_scan_into_a_closed_pipe_ends_quietly():
    done = _kit_into_closed_pipe("scan", "tests/scan_corpus")
    assert done.stderr == "" and done.returncode == 141


def test_stack_status_into_a_closed_pipe_ends_quietly(stack, stack_dir: Path):
    done = _kit_into_closed_pipe("stack", "status", "--data-dir", str(stack_dir))
    assert done.stderr == "" and done.returncode == 141


def test_stack_without_an_action_lists_every_action(capsys: pytest.CaptureFixture[str]):
    assert main(["stack"]) == 3
    out = capsys.readouterr().out
    listed = [line.split()[2] for line in out.splitlines() if line.startswith("  kit stack ")]
    assert listed == list(STACK_ACTIONS) == ["up", "down", "status", "logs", "reset", "migrate"]


@pytest.mark.parametrize("argv", [["--help"], ["stack", "--help"], ["scan", "--help"], ["report", "--help"],
                                  ["doctor", "--help"]])
def test_every_help_is_plain_text(argv: list[str], capsys: pytest.CaptureFixture[str]):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: kit")
    assert "`" not in out and "**" not in out, out


def test_stack_help_names_each_action_with_what_it_does(capsys: pytest.CaptureFixture[str]):
    main(["stack", "--help"])
    out = capsys.readouterr().out
    for name, text in STACK_ACTIONS.items():
        assert f"  {name:<8} {text}" in out


def test_make_lab_allows_root_only_when_root():
    done = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True, check=True)
    lab = [line for line in done.stdout.splitlines() if "jupyter lab" in line]
    assert len(lab) == 1 and lab[0].endswith("notebooks/")
    assert ("--allow-root" in lab[0]) == (os.getuid() == 0)


def _tracked(*patterns: str) -> list[str]:
    done = subprocess.run(["git", "ls-files", "--", *patterns], cwd=REPO, capture_output=True,
                          text=True, check=True)
    return done.stdout.split()


def test_no_checkpoint_folder_is_tracked_and_new_ones_are_ignored():
    assert [p for p in _tracked() if ".ipynb_checkpoints" in p.split("/")] == []
    ignored = subprocess.run(["git", "check-ignore", "-q", "notebooks/.ipynb_checkpoints/x-checkpoint.ipynb"],
                             cwd=REPO)
    assert ignored.returncode == 0


def test_no_tracked_notebook_anywhere_has_outputs():
    notebooks = _tracked("*.ipynb")
    assert notebooks, "git ls-files found no notebook"
    for path in notebooks:
        cells = json.loads((REPO / path).read_text())["cells"]
        dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
                 and (c.get("outputs") or c.get("execution_count") is not None)]
        assert dirty == [], f"{path}: code cells {dirty} have outputs; clear them before committing"


def test_print_checks_gives_every_check_on_its_own_line():
    from kit.checks import Check, Checks

    checks = Checks([Check("to_thread equals baseline", True),
                     Check("blocking stalls the loop", False, "loop frozen up to 3 ms")])
    assert str(checks) == ("<Checks 2 checks, 1 failed>\n"
                           "  PASS  to_thread equals baseline\n"
                           "  FAIL  blocking stalls the loop — loop frozen up to 3 ms")


def test_print_stalls_gives_each_stall_with_its_line_of_code(tmp_path: Path):
    from kit.loop.frames import FrameInfo
    from kit.loop.monitor import Stall
    from kit.loop.watch import Stalls

    app = tmp_path / "app.py"
    app.write_text("def handler():\n    client.storage.from_('b').download(path)\n")
    user = FrameInfo(str(app), 2, "handler", "user")
    sdk = FrameInfo("/x/site-packages/storage3/_sync/file_api.py", 141, "download", "sdk")
    stalls = Stalls([Stall(1.0, 1.212, (user, sdk), user, sdk, 4), Stall(2.0, 2.03, (), None, None, 0)])
    assert stalls[0].traced_to.endswith("app.py:2 handler → storage3/_sync/file_api.py:141 download")
    assert str(stalls) == (f"stall 212 ms at {stalls[0].traced_to}\n"
                           "    client.storage.from_('b').download(path)\n"
                           f"stall 30 ms at {stalls[1].traced_to}")
    assert str(Stalls()) == "no stalls" and Stalls([1]) == [1]


def test_scan_shows_progress_on_a_terminal_and_erases_it_but_not_in_a_pipe():
    import pty

    master, slave = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "kit", "scan", "tests/scan_corpus"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=slave, text=True, timeout=120)
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other side is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert done.returncode == 1 and "findings" in done.stdout
    text = shown.decode()
    corpus = [p for p in (REPO / "tests" / "scan_corpus").rglob("*") if p.suffix in (".py", ".ipynb")]
    assert text.startswith("\r\x1b[Kscanning: ") and f" parsed of {len(corpus)} files" in text
    assert text.endswith("\r\x1b[K")  # the status line is erased before the findings are read
    piped = subprocess.run([sys.executable, "-m", "kit", "scan", "tests/scan_corpus"], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert piped.stderr == "" and piped.stdout == done.stdout


def test_scan_reports_progress_once_per_parsed_file(tmp_path: Path):
    import kit

    for i in range(5):
        (tmp_path / f"m{i}.py").write_text("from supabase import create_client\n"
                                           "async def f(c):\n    return c.table('t').select('*').execute()\n")
    (tmp_path / "plain.py").write_text("x = 1\n")  # cannot hold a finding: never parsed
    seen: list[tuple[int, int]] = []
    kit.scan(str(tmp_path), progress=lambda parsed, files: seen.append((parsed, files)))
    assert seen == [(n, 6) for n in range(1, 6)]


def test_stack_up_says_what_the_first_start_does_before_waiting(tmp_path: Path, stack, stack_dir: Path):
    from kit.cli import starting_note

    fresh = tmp_path / "new-stack"
    assert starting_note(str(fresh)).startswith("starting the embedded stack for the first time: ")
    assert str(fresh) in starting_note(str(fresh))
    (fresh).mkdir()
    (fresh / "keys.json").write_text("{}")
    assert starting_note(str(fresh)) == f"starting the embedded stack from {fresh}..."
    assert starting_note(str(stack_dir)) == ""  # running: reused at once, nothing to wait for

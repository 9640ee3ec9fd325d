"""One embedded stack per test run, shared by the pytest-xdist workers of that run.

    root = stack_dir(config, tmp_path_factory)   # one folder per run, or --kit-stack-dir
    target = acquire(root)                       # start it, or reuse the one running there
    release(root)                                # stop it, if this run started it

The first worker to get the lock (``filelock``, beside the folder) starts the stack; the
others find it running and reuse it. The run that started a stack leaves a mark in its
folder. Without xdist the session fixture's teardown stops it; under xdist the workers
leave it alone and the controller stops it when the whole run ends (a worker that finished
early must not stop the stack under the others). A stack that was already running in
``--kit-stack-dir`` before the run (``python -m kit stack up``) is reused and never stopped.

The run's folder is ``<tmp>/kit-pytest-<user>/<hash of the run's base temporary directory>``,
not inside that directory: pgserver's PostgreSQL runs as another user when pytest runs as
root, and every pytest that starts takes group and other permissions off
``/tmp/pytest-of-<user>`` again, which would lock that user out of a data folder below it.
The folder is deleted when the run that made it stops its stack.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kit.targets import Target

STARTED_BY_RUN = "started-by-pytest-run"
LOCK_TIMEOUT_S = 180.0


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def stack_dir(config: pytest.Config, factory: pytest.TempPathFactory) -> Path:
    """``--kit-stack-dir``, else the run's own folder, named after the run's base temporary
    directory (the controller's, which every xdist worker's base directory sits in)."""
    chosen = config.getoption("kit_stack_dir", None)
    if chosen:
        return Path(chosen).resolve()
    base = factory.getbasetemp()
    return run_stack_dir(base.parent if is_xdist_worker(config) else base)


def run_stack_dir(run_basetemp: Path) -> Path:
    key = hashlib.sha1(str(run_basetemp.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"kit-pytest-{getpass.getuser()}" / key / "stack"


def _is_run_folder(root: Path) -> bool:
    return root.parent.parent == Path(tempfile.gettempdir()) / f"kit-pytest-{getpass.getuser()}"


def acquire(root: Path) -> Target:
    """Start the stack in ``root`` or reuse the one running there (under the run's lock)."""
    from filelock import FileLock

    from kit.stack.process import running_state, start

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock", timeout=LOCK_TIMEOUT_S):
        running = running_state(root) is not None
        target = start(root)
        if not running:
            (root / STARTED_BY_RUN).write_text(str(os.getpid()))
    return target


def release(root: Path) -> bool:
    """Stop the stack in ``root`` if this run started it; True when it was stopped."""
    from filelock import FileLock

    from kit.stack.process import stop

    mark = root / STARTED_BY_RUN
    if not mark.exists():
        return False
    with FileLock(str(root) + ".lock", timeout=LOCK_TIMEOUT_S):
        if not mark.exists():
            return False
        mark.unlink()
        stopped = stop(root)
    if _is_run_folder(root):
        shutil.rmtree(root.parent, ignore_errors=True)
    return stopped


def release_after_xdist_run(config: pytest.Config) -> None:
    """In the xdist controller at the end of the run: stop the stack its workers shared."""
    if is_xdist_worker(config) or not config.pluginmanager.hasplugin("dsession"):
        return
    factory = getattr(config, "_tmp_path_factory", None)
    base = getattr(factory, "_basetemp", None)  # set once workers were given their folders
    chosen = config.getoption("kit_stack_dir", None)
    root = Path(chosen).resolve() if chosen else (run_stack_dir(base) if base else None)
    if root is not None and (root / STARTED_BY_RUN).exists():
        release(root)

"""The embedded stack of a test run (the project's by default), shared by its pytest-xdist workers.

    root = stack_dir(config, tmp_path_factory)   # the project's, --kit-stack-dir, or private
    target = acquire(root, migrations)           # start it, or reuse the one running there
    release(root)                                # stop it, if this run started it

Which stack: ``--kit-stack-dir DIR``; else, like the rest of the kit, ``KIT_STACK_DIR`` or
the nearest ``.kit/stack`` from pytest's rootdir (``kit.stack.state.resolve_data_dir``), the
one ``python -m kit stack status`` shows and the app's ``API_URL`` names; a private one for
the run only with ``--kit-private-stack``.

The first worker to get the lock (``pytest.lock`` in the stack's folder) starts the stack; the
others find it running and reuse it. The run that started a stack leaves a mark in its
folder. Without xdist the session fixture's teardown stops it; under xdist the workers
leave it alone and the controller stops it when the whole run ends (a worker that finished
early must not stop the stack under the others). A stack that was already running before
the run (``python -m kit stack up``) is reused and never stopped. ``--kit-migrations PATH``
(.sql files, or a folder of them, in name order) are applied under the lock, each file once
(``kit.stack.database.apply_migrations``).

A private run's folder is ``<tmp>/kit-pytest-<user>/<hash of the run's base temporary directory>``,
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
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from kit.targets import Target

STARTED_BY_RUN = "started-by-pytest-run"
RUN_LOCK = "pytest.lock"  # in the stack's folder (kit.stack.state.STACK_FILES): nothing beside it
LOCK_TIMEOUT_S = 180.0


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def stack_dir(config: pytest.Config, factory: pytest.TempPathFactory) -> Path:
    """``--kit-stack-dir``; with ``--kit-private-stack`` the run's own folder, named after the
    run's base temporary directory (the controller's, which every xdist worker's base directory
    sits in); else the project's stack (``KIT_STACK_DIR``, the nearest ``.kit/stack``)."""
    chosen = config.getoption("kit_stack_dir", None)
    if chosen:
        return Path(chosen).resolve()
    if config.getoption("kit_private_stack", False):
        base = factory.getbasetemp()
        return run_stack_dir(base.parent if is_xdist_worker(config) else base)
    from kit.stack.state import resolve_data_dir

    return resolve_data_dir(cwd=config.rootpath)


def migration_files(paths: list[str]) -> list[Path]:
    """``--kit-migrations`` values as files: a folder's ``*.sql`` in name order, files as given.
    Raises ``UsageError`` for a path that does not exist."""
    from kit.errors import UsageError

    files: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            files += sorted(path.glob("*.sql"))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"--kit-migrations {given}: no such file or folder",
                             fix="pass a .sql file or a folder of them (e.g. supabase/migrations)")
    return files


def run_stack_dir(run_basetemp: Path) -> Path:
    key = hashlib.sha1(str(run_basetemp.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"kit-pytest-{getpass.getuser()}" / key / "stack"


def _is_run_folder(root: Path) -> bool:
    return root.parent.parent == Path(tempfile.gettempdir()) / f"kit-pytest-{getpass.getuser()}"


def acquire(root: Path, migrations: list[Path] | None = None) -> Target:
    """Start the stack in ``root`` or reuse the one running there (under the run's lock), then
    apply ``migrations`` (each file once)."""
    from kit.stack.database import apply_migrations
    from kit.stack.process import running_state, start
    from kit.stack.state import prepare_data_dir

    prepare_data_dir(root)  # before the lock file: the kit's stack folder, or a clear error
    with _run_lock(root):
        running = running_state(root) is not None
        target = start(root)
        if not running:
            (root / STARTED_BY_RUN).write_text(str(os.getpid()))
        if migrations and target.database_url:
            apply_migrations(target.database_url, migrations)
    return target


def _run_lock(root: Path) -> Any:
    from kit.stack.file_lock import hold

    return hold(root / RUN_LOCK, LOCK_TIMEOUT_S, f"starting the stack in {root} for a pytest run")


def release(root: Path) -> bool:
    """Stop the stack in ``root`` if this run started it; True when it was stopped."""
    from kit.stack.process import stop

    mark = root / STARTED_BY_RUN
    if not mark.exists():
        return False
    with _run_lock(root):
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
    if chosen:
        root: Path | None = Path(chosen).resolve()
    elif config.getoption("kit_private_stack", False):
        root = run_stack_dir(base) if base else None
    else:
        from kit.stack.state import resolve_data_dir

        root = resolve_data_dir(cwd=config.rootpath)
    if root is not None and (root / STARTED_BY_RUN).exists():
        release(root)

"""A template PostgreSQL cluster, made once per machine and copied into each new stack.

    fill_from_template(data_dir / "pg")     # an empty pgdata becomes a copy of the template

``initdb`` is most of a cold start (5 s on a loaded 2-core machine, 0.15 s to start an
existing cluster); copying a cluster made by the same binaries is a fraction of that.
The template is made by pgserver itself (``pgserver.get_server`` on an empty directory, then
stopped), so its settings are exactly the ones pgserver gives a new cluster. It lives in the
user's cache directory (``platformdirs.user_cache_dir("kit")``, or ``KIT_PG_TEMPLATE_DIR``),
one per pgserver version; making it is serialised by a lock file beside it. Any failure
leaves the stack to pgserver's own ``initdb``: the template only ever saves time.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

log = logging.getLogger("kit.stack")

# pgserver's log, and what a running server leaves behind, are not part of a cluster to copy.
_NOT_COPIED = shutil.ignore_patterns("log", "postmaster.pid", "postmaster.opts", ".s.PGSQL.*")


def template_dir() -> Path:
    """Where this machine's template cluster lives (one per pgserver version)."""
    root = os.environ.get("KIT_PG_TEMPLATE_DIR")
    if not root:
        import platformdirs
        root = platformdirs.user_cache_dir("kit")
    return Path(root) / f"pg-template-{metadata.version('pgserver')}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:  # an flock: released by the OS if the holder dies
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _make_template(template: Path) -> None:
    import pgserver

    scratch = template.with_name(f"{template.name}.making-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    server = pgserver.get_server(scratch, cleanup_mode="stop")
    server.cleanup()
    scratch.rename(template)


def _copy_owned(source: Path, destination: Path) -> None:
    shutil.copytree(source, destination, symlinks=True, ignore=_NOT_COPIED, dirs_exist_ok=True)
    if os.geteuid() == 0:  # pgserver runs PostgreSQL as its own user when started as root
        owner = source.stat()
        for folder, dirs, files in os.walk(destination):
            os.chown(folder, owner.st_uid, owner.st_gid)
            for name in dirs + files:
                os.chown(os.path.join(folder, name), owner.st_uid, owner.st_gid,
                         follow_symlinks=False)


def fill_from_template(pgdata: Path, *, locked: threading.Event | None = None) -> bool:
    """Copy the template cluster into ``pgdata`` when it holds no cluster yet; True if copied.

    Safe for concurrent callers: the copy is made under ``<pgdata>.lock`` into
    ``<pgdata>.partial`` and renamed into place, so a caller sees no cluster or a whole one.
    ``locked`` is set once this call holds the lock (``kit.stack.start`` copies in a thread
    while the server process imports, and the server's own call waits for it).
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _locked(pgdata.with_name(pgdata.name + ".lock")):
        if locked is not None:
            locked.set()
        if (pgdata / "PG_VERSION").exists():
            return False
        template = template_dir()
        partial = pgdata.with_name(pgdata.name + ".partial")
        try:
            with _locked(template.with_name(template.name + ".lock")):
                if not (template / "PG_VERSION").exists():
                    _make_template(template)
            shutil.rmtree(partial, ignore_errors=True)
            _copy_owned(template, partial)
            if pgdata.exists():
                pgdata.rmdir()  # an empty directory left by an earlier attempt
            partial.rename(pgdata)
        except Exception as exc:  # the template only saves time: fall back to pgserver's initdb
            log.warning("no template cluster (%s); running initdb", exc)
            shutil.rmtree(partial, ignore_errors=True)
            return False
    return True

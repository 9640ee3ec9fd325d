"""A template PostgreSQL cluster per user: initdb and the bootstrap SQL run once, and each new
stack copies the result (kit.stack.postgres.Cluster does), which is 3-5x faster than initdb.

    cache = TemplateCache.from_env()               # the cache directory, see below
    password = cache.copy_into(pgdata, timeout=60) # builds the template first if missing or damaged

The cache directory is ``$KIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/kit``, else ``~/.cache/kit``;
the kit keeps it mode 0700. Deleting it is always safe (the next start rebuilds what it needs).

    <cache>/pg-templates/<key>/pg/            the cluster, made by the kit's own initdb
                                              (scram-sha-256 for every connection, never trust),
                                              with kit/stack/sql/*.sql applied
    <cache>/pg-templates/<key>/postgres.json  its superuser password (0600): a copy starts with it
                                              and changes it at its first start (Cluster.start)
    <cache>/pg-templates/<key>/manifest.json  the key, the postgres binary it was made with,
                                              every directory and every file's size
    <cache>/pg-templates/<key>.lock           builders hold it exclusive, copiers shared

``key`` is PostgreSQL's version and a hash of the binaries' identity, the initdb settings and
the bootstrap SQL: changing any of them builds a new template beside the old ones. A template
is built in a temporary folder beside its final name and renamed into place; a copy whose
template has a missing file or a file of another size rebuilds it. A copy is not fsynced
(creating its ~1000 files is already most of a cold start): an operating-system crash within
the first seconds of a new stack can leave it damaged, and ``kit stack reset`` starts afresh.

Each virtualenv has its own PostgreSQL binaries, so each gets its own template (about 40 MB).
Every copy marks its template as used (the folder's mtime); each start then removes, without
waiting for anyone, the templates whose binary is gone (a deleted virtualenv) or that no start
has used for ``UNUSED_DAYS`` days, unless another process holds their lock.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.errors import StackStartFailed
from kit.stack.file_lock import hold

SQL_DIR = Path(__file__).with_name("sql")  # the bootstrap SQL kit.stack.database applies at each start
_FORMAT = 1  # bump when the template's layout changes
UNUSED_DAYS = 30  # a template no start has copied for this long is removed (prune)


class TemplateDamaged(StackStartFailed):
    """A template folder that is not what its manifest says (it is rebuilt)."""


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$KIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/kit``, else ``~/.cache/kit``."""
    env = os.environ if env is None else env
    if env.get("KIT_CACHE_DIR"):
        return Path(env["KIT_CACHE_DIR"]).expanduser()
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "kit"


@functools.lru_cache(maxsize=4)
def _postgres_version(postgres: Path) -> str:
    """``16.2`` from ``postgres -V`` (``postgres (PostgreSQL) 16.2``)."""
    return subprocess.run([str(postgres), "-V"], capture_output=True, text=True,
                          check=True).stdout.split()[-1]


def template_key() -> str:
    """``pg16.2-<16 hex>``: the version, then a hash of the binary, initdb's settings and the SQL."""
    from kit.stack.postgres import INITDB_SETTINGS, binaries

    postgres = binaries() / "postgres"
    stat = postgres.stat()
    digest = hashlib.sha256(f"{_FORMAT}\n{postgres.resolve()}\n{stat.st_size}\n{stat.st_mtime_ns}\n"
                            f"{INITDB_SETTINGS}\n".encode())
    for path in sorted(SQL_DIR.glob("*.sql")):
        digest.update(path.name.encode() + b"\n" + path.read_bytes())
    return f"pg{_postgres_version(postgres)}-{digest.hexdigest()[:16]}"


@dataclass(frozen=True)
class TemplateCache:
    """The templates of one cache directory (``root`` is ``<cache>/pg-templates``)."""

    root: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TemplateCache:
        return cls(cache_dir(env) / "pg-templates")

    def copy_into(self, dest: Path, timeout: float) -> str:
        """Create the folder ``dest`` as a copy of the template's cluster, building the template
        first when it is missing or damaged; returns the template's superuser password, which the
        copy must replace at its first start. Raises ``StackStartFailed`` (or ``OSError``) when
        no template can be made: the caller runs initdb instead."""
        self._make_private()
        key = template_key()
        folder, lock = self.root / key, self.root / f"{key}.lock"
        for _ in range(2):
            with hold(lock, timeout, f"building the PostgreSQL template {folder}", shared=True):
                try:
                    password = _copy(folder, key, dest)
                except TemplateDamaged as exc:
                    damage = exc
                else:
                    with contextlib.suppress(OSError):
                        os.utime(folder)  # used now: prune keeps it
                    self.prune(keep=key)
                    return password
            with hold(lock, timeout, f"building the PostgreSQL template {folder}"):
                try:
                    _verify(folder, key)  # another process rebuilt it meanwhile
                except TemplateDamaged as exc:
                    if folder.exists():
                        print(f"kit: rebuilding the PostgreSQL template {folder}: {exc}", file=sys.stderr,
                              flush=True)
                        _discard(folder)
                    _build(folder, timeout)
        raise TemplateDamaged(f"the PostgreSQL template {folder} is damaged right after it was built: {damage}",
                              fix=f"delete {self.root} and start again")

    def prune(self, keep: str, *, unused_days: float = UNUSED_DAYS) -> list[str]:
        """Remove the templates (other than ``keep``) whose manifest names a postgres binary that
        no longer exists, or whose folder no copy has touched for ``unused_days`` days; a template
        whose lock another process holds is left alone. Never raises: pruning is housekeeping.
        Returns the keys removed."""
        removed: list[str] = []
        horizon = time.time() - unused_days * 86400
        with contextlib.suppress(OSError):
            for folder in sorted(self.root.iterdir()):
                if folder.name == keep or folder.name.startswith(".") or not folder.is_dir():
                    continue
                with contextlib.suppress(OSError, StackStartFailed):
                    if folder.stat().st_mtime >= horizon and _binary_exists(folder):
                        continue
                    with hold(self.root / f"{folder.name}.lock", 0, "using a template"):  # one try
                        _discard(folder)
                        removed.append(folder.name)
        return removed

    def _make_private(self) -> None:
        """The cache directory and ``pg-templates`` exist, are ours and are 0700."""
        base = self.root.parent
        base.parent.mkdir(parents=True, exist_ok=True)
        for folder in (base, self.root):
            folder.mkdir(mode=0o700, exist_ok=True)
            status = folder.stat()
            if status.st_uid != os.geteuid():
                raise StackStartFailed(f"the cache directory {folder} belongs to another user",
                                       fix="set KIT_CACHE_DIR to a directory of your own")
            if status.st_mode & 0o077:
                folder.chmod(0o700)


def _build(folder: Path, timeout: float) -> None:
    """initdb (the kit's own way), the bootstrap SQL, a clean stop, the manifest, then the rename.
    The caller holds the template's lock: a ``.build-<key>-*`` folder found now is a killed build's."""
    import psycopg

    from kit.stack.postgres import Cluster, binaries

    for stale in folder.parent.glob(f".build-{folder.name}-*"):
        Cluster(stale / "pg", stale / "postgres.json", template=False).stop()
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".build-{folder.name}-"))
    try:
        cluster = Cluster(work / "pg", work / "postgres.json", template=False)
        url = cluster.start(timeout)
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                for path in sorted(SQL_DIR.glob("*.sql")):
                    conn.execute(path.read_text())
        finally:
            cluster.stop()
        (work / "pg" / "postmaster.opts").unlink(missing_ok=True)  # names the build folder
        dirs, files = [], {}
        for path in sorted((work / "pg").rglob("*")):
            rel = str(path.relative_to(work / "pg"))
            if path.is_dir():
                dirs.append(rel)
            else:
                files[rel] = path.stat().st_size
        _write_private(work / "manifest.json", {"key": folder.name, "postgres": str(binaries() / "postgres"),
                                                "dirs": dirs, "files": files})
        os.rename(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _binary_exists(folder: Path) -> bool:
    """False when the template's manifest names a postgres binary that is gone (a manifest from
    before the binary was recorded names none: True)."""
    try:
        binary = json.loads((folder / "manifest.json").read_text()).get("postgres")
    except (OSError, ValueError, AttributeError):
        return True  # unreadable: its age decides
    return not isinstance(binary, str) or Path(binary).exists()


def _read_manifest(folder: Path, key: str) -> dict[str, Any]:
    try:
        manifest = dict(json.loads((folder / "manifest.json").read_text()))
        password = str(json.loads((folder / "postgres.json").read_text())["password"])
    except FileNotFoundError as exc:
        raise TemplateDamaged(f"{Path(exc.filename).name} is missing") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TemplateDamaged(f"its manifest or password file is unreadable ({exc})") from None
    if (manifest.get("key") != key or not isinstance(manifest.get("files"), dict)
            or not isinstance(manifest.get("dirs"), list)):
        raise TemplateDamaged(f"its manifest is not the manifest of {key}")
    return {**manifest, "password": password}


def _verify(folder: Path, key: str) -> dict[str, Any]:
    """The manifest, once every folder and file it lists is there with its size."""
    manifest = _read_manifest(folder, key)
    for rel in manifest["dirs"]:
        if not (folder / "pg" / rel).is_dir():
            raise TemplateDamaged(f"its folder {rel} is missing")
    for rel, size in manifest["files"].items():
        try:
            found = (folder / "pg" / rel).stat().st_size
        except FileNotFoundError:
            raise TemplateDamaged(f"its file {rel} is missing") from None
        if found != size:
            raise TemplateDamaged(f"its file {rel} has {found} bytes, not {size}")
    return manifest


def _copy(folder: Path, key: str, dest: Path) -> str:
    """Copy the template's files into the new folder ``dest`` (never links: no two stacks share a
    file), each checked against the manifest's size; the template's password."""
    manifest = _read_manifest(folder, key)
    dest.mkdir(mode=0o700)
    try:
        for rel in manifest["dirs"]:
            (dest / rel).mkdir(mode=0o700)
        for rel, size in manifest["files"].items():
            if (copied := _copy_file(folder / "pg" / rel, dest / rel)) != size:
                raise TemplateDamaged(f"its file {rel} has {copied} bytes, not {size}")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return str(manifest["password"])


def _copy_file(src: Path, dst: Path) -> int:
    """Copy one file into a new file made 0600 (one metadata change: creating files is most of
    the copy's cost); the bytes copied, counted to the end of ``src``."""
    try:
        source = os.open(src, os.O_RDONLY)
    except FileNotFoundError:
        raise TemplateDamaged(f"its file {src} is missing") from None
    try:
        target = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with contextlib.suppress(OSError):  # sendfile between files: Linux; else read/write
                copied = 0
                while sent := os.sendfile(target, source, copied, 1 << 30):
                    copied += sent
                return copied
            os.lseek(target, 0, os.SEEK_SET)
            os.ftruncate(target, 0)
            copied = 0
            while chunk := os.pread(source, 1 << 20, copied):
                copied += os.write(target, chunk)
            return copied
        finally:
            os.close(target)
    finally:
        os.close(source)


def _discard(folder: Path) -> None:
    """Rename it away first (a single step), then delete it."""
    doomed = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".discard-"))
    os.rename(folder, doomed / "template")
    shutil.rmtree(doomed, ignore_errors=True)


def _write_private(path: Path, content: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(content, fh)

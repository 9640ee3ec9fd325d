"""The embedded PostgreSQL, run by the kit itself (pgserver's wheel gives the binaries only).

    cluster = Cluster(data_dir / "pg", data_dir / "postgres.json")
    url = cluster.start()          # a copy of the template cluster on first use (kit.stack.pg_template),
                                   # with its own password; reuses a server left running by a kill -9
    cluster.stop()                 # fast shutdown; True when one was running

What it guarantees, where pgserver's own server did not:

- Nothing other local users can use: no TCP port; the Unix socket is in the data directory, or,
  when that path is too long for a socket, in a fresh ``mkdtemp`` directory (mode 0700, owned by
  the server's user); ``pg_hba.conf`` asks every connection for the password (scram-sha-256),
  which lives in ``postgres.json`` (mode 0600), never ``trust``.
- As root, PostgreSQL runs as the ``pgserver`` user without widening any directory above the
  stack directory: it gets the data directory as an inherited open directory (``-D
  /proc/self/fd/N``), so it never walks the path from ``/``.
- Recovery: a server left by a killed stack is found through ``postmaster.pid`` and reused or
  stopped; ``stop`` stops it whoever started it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kit.errors import StackStartFailed
from kit.stack.file_lock import hold

SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
_FD = 3  # the data directory's descriptor in the server's processes, as root
# initdb's settings (besides the data directory and the password file); the template's key hashes them
INITDB_SETTINGS = ("-U", "postgres", "--auth=scram-sha-256", "--encoding=utf8", "--no-instructions")


def _pgserver() -> Any:
    """pgserver, imported quietly (lazy: only the embedded stack needs it). Importing the
    package runs its ``PostgresServer`` class body, which asks platformdirs for a user runtime
    directory for that class's lock file; without ``XDG_RUNTIME_DIR`` (containers, CI, ssh)
    platformdirs warns ``RuntimeDirWarning: XDG_RUNTIME_DIR is not set`` on stderr. The kit
    never uses that class or its lock (only the binaries and ``ensure_user_exists``), so that
    one warning is noise here; every other warning still shows."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"XDG_RUNTIME_DIR ", category=UserWarning,
                                module=r"platformdirs(\.|$)|pgserver(\.|$)")
        import pgserver._commands
        import pgserver.utils
    return pgserver


def binaries() -> Path:
    return Path(_pgserver()._commands.POSTGRES_BIN_PATH)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class Cluster:
    """One PostgreSQL data directory and the server running on it."""

    def __init__(self, pgdata: Path, settings_path: Path, *, template: bool = True) -> None:
        self.pgdata = pgdata
        self.settings_path = settings_path
        self.log_path = pgdata.parent / "postgres.log"
        self.template = template  # a new cluster copies the template cluster (else runs initdb)

    def __repr__(self) -> str:
        return f"<Cluster {self.pgdata}>"

    # -- settings: the superuser password and the socket directory ---------------------------

    def _settings(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.settings_path.read_text()))
        except (FileNotFoundError, ValueError):
            return {}

    def _save(self, settings: dict[str, Any]) -> None:
        tmp = self.settings_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(settings, fh)
        os.replace(tmp, self.settings_path)

    def url(self, settings: dict[str, Any]) -> str:
        """The superuser URL (it holds the password: show it only where keys are shown)."""
        return (f"postgresql://postgres:{quote(settings['password'], safe='')}@/postgres"
                f"?host={quote(settings['socket_dir'], safe='')}")

    # -- running ----------------------------------------------------------------------------

    def running_pid(self) -> int | None:
        """The postmaster's pid from ``postmaster.pid`` when that process is alive."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    @contextlib.contextmanager
    def lock(self, timeout: float = 60.0) -> Iterator[None]:
        """Hold ``postgres.lock`` beside the data directory: one process creates or starts it."""
        with hold(self.pgdata.parent / "postgres.lock", timeout, f"starting PostgreSQL in {self.pgdata}"):
            yield

    def start(self, timeout: float = 60.0) -> str:
        """Start the server (creating the cluster first, see ``create``); its URL. A server
        already running on this directory (left by a killed stack) is reused when it answers."""
        with self.lock(timeout):
            settings = self._settings()
            if self.running_pid() is not None:
                if settings and _accepts(Path(settings["socket_dir"]) / SOCKET_NAME):
                    return self.url(self._own_password(settings))
                self.stop()
            self.create(timeout)
            settings = self._settings()
            if not settings.get("password"):
                raise StackStartFailed(f"{self.pgdata} has no kit password record ({self.settings_path} "
                                       "is missing): it was made by an older kit or another tool",
                                       fix="`python -m kit stack reset` to start afresh")
            try:
                self._serve(settings, timeout)
            except StackStartFailed as exc:
                if not settings.get("template_password"):
                    raise
                # a fresh copy of the template that does not start: no data of anyone's is in it yet
                print(f"kit: a copy of the PostgreSQL template did not start ({_first_line(exc)}); running initdb "
                      "instead (delete the kit's cache directory to rebuild the template)",
                      file=sys.stderr, flush=True)
                shutil.rmtree(self.pgdata)
                self._save(self._initdb())
                self._serve(settings := self._settings(), timeout)
            return self.url(self._own_password(settings))

    def create(self, timeout: float = 60.0) -> None:
        """Make the cluster when the data directory holds none: a copy of the template cluster
        (kit.stack.pg_template; its password is replaced at the first start), else initdb.
        The caller holds ``lock()``."""
        if (self.pgdata / "PG_VERSION").exists():
            return
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise StackStartFailed(f"{self.pgdata} is not empty and holds no PostgreSQL cluster",
                                   fix="move its files away, or `python -m kit stack reset`")
        if self.template:
            from kit.stack.pg_template import TemplateCache

            work = self.pgdata.with_name(self.pgdata.name + ".tmp")
            shutil.rmtree(work, ignore_errors=True)  # left by a copy that was killed
            try:
                password = TemplateCache.from_env().copy_into(work, timeout)
                self._save({"password": password, "template_password": True})
                if self.pgdata.exists():
                    self.pgdata.rmdir()
                os.rename(work, self.pgdata)
                return
            except (StackStartFailed, OSError) as exc:
                shutil.rmtree(work, ignore_errors=True)
                print(f"kit: no PostgreSQL template ({_first_line(exc)}); running initdb instead",
                      file=sys.stderr, flush=True)
        self._save(self._initdb())

    def stop(self, timeout: float = 20.0) -> bool:
        """Fast shutdown (SIGINT), then SIGQUIT, then SIGKILL; True when a server was running."""
        pid = self.running_pid()
        if pid is None:
            self._remove_private_socket_dir()
            return False
        for signum, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and pid_alive(pid):
                time.sleep(0.05)
            if not pid_alive(pid):
                break
        self._remove_private_socket_dir()
        return True

    # -- the pieces -------------------------------------------------------------------------

    def _initdb(self) -> dict[str, Any]:
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        password = secrets.token_urlsafe(24)
        with _passfile(password, self.pgdata.parent) as (pwfile, fds):
            self._run([str(binaries() / "initdb"), "-D", self._datadir_arg(), *INITDB_SETTINGS,
                       f"--pwfile={pwfile}"], extra_fds=fds)
        return {"password": password}

    def _serve(self, settings: dict[str, Any], timeout: float) -> None:
        settings["socket_dir"] = self._socket_dir(settings.get("socket_dir"))
        self._save(settings)
        self._write_hba()
        for attempt in range(3):  # after a kill -9, the old server's backends may linger a moment
            try:
                self._launch(settings["socket_dir"], timeout)
                return
            except StackStartFailed:
                if attempt == 2:
                    raise
                time.sleep(1.0)

    def _own_password(self, settings: dict[str, Any]) -> dict[str, Any]:
        """A copy of the template runs with the template's superuser password: replace it with
        its own (ALTER ROLE over the private socket) before anyone is given its URL."""
        if not settings.get("template_password"):
            return settings
        import psycopg
        from psycopg import sql

        fresh = settings.get("next_password") or secrets.token_urlsafe(24)
        self._save({**settings, "next_password": fresh})  # a start killed after ALTER ROLE knows it
        for password in (settings["password"], fresh):
            try:
                with psycopg.connect(self.url({**settings, "password": password}), autocommit=True) as conn:
                    conn.execute(sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(fresh)))
                break
            except psycopg.OperationalError as exc:
                if password == fresh:
                    raise StackStartFailed(f"cannot give the PostgreSQL in {self.pgdata} its own password: "
                                           f"{_first_line(exc)}",
                                           fix="`python -m kit stack reset` to start afresh") from None
        own = {key: value for key, value in settings.items() if key not in ("template_password", "next_password")}
        self._save({**own, "password": fresh})
        return {**own, "password": fresh}

    def _socket_dir(self, previous: str | None) -> str:
        if len(str(self.pgdata / SOCKET_NAME)) <= _MAX_SOCKET_PATH:
            return str(self.pgdata)
        if previous and previous != str(self.pgdata) and _private(Path(previous)):
            return previous
        folder = Path(tempfile.mkdtemp(prefix="kit-pg-"))  # 0700, ours, a fresh name
        if _as_root():
            _give_to_server_user(folder)
        return str(folder)

    def _remove_private_socket_dir(self) -> None:
        folder = self._settings().get("socket_dir")
        if folder and folder != str(self.pgdata) and _private(Path(folder)):
            shutil.rmtree(folder, ignore_errors=True)

    def _write_hba(self) -> None:
        hba = ("# written by the kit at each start: every connection needs the password\n"
               "local all all scram-sha-256\n")
        path = self.pgdata / "pg_hba.conf"
        if not path.exists() or path.read_text() != hba:
            path.write_text(hba)
            owner = self.pgdata.stat()
            if _as_root():
                os.chown(path, owner.st_uid, owner.st_gid)
            path.chmod(0o600)

    def _launch(self, socket_dir: str, timeout: float) -> None:
        socket_arg = f"/proc/self/fd/{_FD}" if _as_root() and socket_dir == str(self.pgdata) else socket_dir
        args = [str(binaries() / "postgres"), "-D", self._datadir_arg(), "-k", socket_arg,
                "-c", "listen_addresses=", "-c", "unix_socket_permissions=0700",
                "-c", "cluster_name=kit"]
        with open(self.log_path, "ab") as log:
            proc = self._popen(args, stdout=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StackStartFailed(f"PostgreSQL exited with code {proc.returncode} in {self.pgdata}: "
                                       f"{_last_line(self.log_path)}",
                                       fix=f"read {self.log_path}; `python -m kit stack reset` if "
                                           "the data directory is damaged")
            # the pid too: a server killed by kill -9 leaves its "ready" postmaster.pid and socket
            if _ready(self.pgdata, proc.pid) and (Path(socket_dir) / SOCKET_NAME).exists():
                return
            time.sleep(0.01)
        raise StackStartFailed(f"PostgreSQL did not become ready within {timeout:.0f} s",
                               fix=f"read {self.log_path}")

    # -- running the binaries, as root or not ------------------------------------------------

    def _datadir_arg(self) -> str:
        return f"/proc/self/fd/{_FD}" if _as_root() else str(self.pgdata)

    def _popen(self, args: list[str], stdout: Any, extra_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
        if not _as_root():
            return subprocess.Popen(args, stdout=stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, pass_fds=extra_fds)
        user = _give_to_server_user(self.pgdata)
        fd = os.open(self.pgdata, os.O_RDONLY | os.O_DIRECTORY)
        try:
            return subprocess.Popen(args, stdout=stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, user=user, group=user, extra_groups=[],
                                    pass_fds=(_FD, *extra_fds), preexec_fn=_moved_fd(fd), cwd="/")
        finally:
            os.close(fd)

    def _run(self, args: list[str], extra_fds: tuple[int, ...] = ()) -> None:
        with open(self.log_path, "ab") as log:
            proc = self._popen(args, stdout=log, extra_fds=extra_fds)
            if proc.wait() != 0:
                raise StackStartFailed(f"{Path(args[0]).name} failed with code {proc.returncode} in "
                                       f"{self.pgdata}: {_last_line(self.log_path)}",
                                       fix=f"read {self.log_path}")


def _moved_fd(fd: int) -> Any:
    def move() -> None:  # in the child, before exec: the data directory becomes fd _FD
        os.dup2(fd, _FD, inheritable=True)
    return move


@contextlib.contextmanager
def _passfile(password: str, folder: Path) -> Iterator[tuple[str, tuple[int, ...]]]:
    """``(path, descriptors to pass)`` of a file holding the password: an anonymous file passed
    as an open descriptor where Linux has them (never on disk), else a 0600 temp file."""
    if not hasattr(os, "memfd_create"):
        fd, name = tempfile.mkstemp(dir=folder, prefix=".pwfile-")
        try:
            os.write(fd, password.encode() + b"\n")
            os.close(fd)
            yield name, ()
        finally:
            Path(name).unlink(missing_ok=True)
        return
    made = os.memfd_create("kit-pwfile", 0)
    fd = fcntl.fcntl(made, fcntl.F_DUPFD, _FD + 1)  # never _FD itself: the child's dup2 would clobber it
    os.close(made)
    try:
        os.write(fd, password.encode() + b"\n")
        os.lseek(fd, 0, os.SEEK_SET)
        os.set_inheritable(fd, True)
        yield f"/proc/self/fd/{fd}", (fd,)
    finally:
        os.close(fd)


def _give_to_server_user(folder: Path) -> str:
    """As root, PostgreSQL runs as ``pgserver``: it owns the folder (0700) and nothing above."""
    import pwd

    entry = _pgserver().utils.ensure_user_exists("pgserver")
    assert entry is not None
    if folder.stat().st_uid != entry.pw_uid:
        for path in (folder, *folder.rglob("*")):
            os.lchown(path, entry.pw_uid, entry.pw_gid)
    folder.chmod(0o700)
    return pwd.getpwuid(entry.pw_uid).pw_name


def _private(folder: Path) -> bool:
    """A kit socket directory: ``kit-pg-*`` in the temp dir, mode 0700, ours or the server's."""
    try:
        st = folder.stat()
    except OSError:
        return False
    return folder.name.startswith("kit-pg-") and (st.st_mode & 0o077) == 0


def _ready(pgdata: Path, pid: int) -> bool:
    """``postmaster.pid`` says the server ``pid`` accepts connections (line 1: pid, 8: status)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return False
    return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"


def _accepts(path: Path) -> bool:
    """A server listens on the Unix socket ``path`` (a socket file alone may be a dead one's)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a child of ours that exited is reaped, so it is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _last_line(path: Path) -> str:
    text = path.read_text(errors="replace").strip() if path.exists() else ""
    return text.splitlines()[-1] if text else "(no log output)"

"""Start, find, stop and reset the stack process.

    target = start()          # reuses a running stack for the data directory
    status()                  # the running stack's target, or StackNotRunning
    stop()
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from kit.errors import StackError, StackNotRunning, StackStartFailed, UsageError
from kit.stack import keys as stack_keys
from kit.stack.file_lock import hold
from kit.stack.postgres import Cluster
from kit.stack.postgres import pid_alive as _alive
from kit.stack.state import (
    DEFAULT_DIR,
    MARKER,
    STACK_FILES,
    StackState,
    log_path,
    prepare_data_dir,
    remember_port,
    remembered_port,
    resolve_data_dir,
    resolve_schemas,
    state_path,
)
from kit.targets import Target


def _healthy(url: str, timeout: float = 2.0) -> bool:
    """``GET <url>/_kit/health`` answers 200. A plain http.client probe: ``httpx.get`` builds a
    TLS context per call (0.13-0.17 s measured), on the path of every start and reuse."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("GET", "/_kit/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _target(state: StackState, data_dir: Path) -> Target:
    keys = stack_keys.load_or_create(data_dir)
    return Target("embedded", state.url, keys.anon_key, keys.service_role_key,
                  database_url=state.database_url, jwt_secret=keys.jwt_secret,
                  key_source=f"{data_dir / 'keys.json'}", stack_dir=str(data_dir))


def announce(target: Target, how: str, *, cwd: Path | None = None,
             stream: IO[str] | None = None, note: str = "") -> None:
    """Say which stack is used (one line on stderr) when it was started, or reused from a
    directory other than this one's ``.kit/stack``: a stack elsewhere has other tables.
    ``note`` (e.g. that the last port was taken) is added to that line."""
    here = (cwd or Path.cwd()).resolve() / DEFAULT_DIR
    if how == "reused" and target.stack_dir and Path(target.stack_dir) == here:
        return
    print(f"kit: {how} the embedded stack in {target.stack_dir} at {target.url}"
          f"{'; ' + note if note else ''} (KIT_STACK_DIR or stack_dir= picks another)",
          file=stream or sys.stderr)


def running_state(data_dir: Path) -> StackState | None:
    state = StackState.read(state_path(data_dir))
    if state and _alive(state.pid) and _healthy(state.url):
        return state
    return None


def status(data_dir: str | os.PathLike[str] | None = None) -> Target:
    """The running stack as a target: ``kit.stack.status().url``."""
    folder = resolve_data_dir(data_dir)
    state = running_state(folder)
    if state is None:
        raise StackNotRunning(f"no embedded stack is running for {folder}",
                              fix="run `python -m kit stack up` (or `kit.stack.start()`)")
    return _target(state, folder)


def start(data_dir: str | os.PathLike[str] | None = None, *, port: int = 0,
          timeout: float = 60.0, schemas: str | Sequence[str] | None = None,
          auth: Mapping[str, Any] | None = None) -> Target:
    """Start the stack in its own process, or reuse the one already running.

    ``port``: the API port; 0 (default) takes the one the stack last had (``<data dir>/port``)
    when it is free, so a restart keeps its URL, else any free port (the start line says so).
    ``schemas``: what /rest/v1 exposes (PostgREST's db-schemas), ``"public,api"`` or a list;
    default ``KIT_STACK_SCHEMAS``, else ``public, graphql_public``.
    ``auth`` changes Auth settings (kit.stack.auth.settings, kept in ``<data dir>/auth.json``):
    ``start(auth={"mailer_autoconfirm": False, "jwt_expiry": 600})``. A running stack with
    other settings is not reused silently: UsageError says to stop it first.

    >>> t = start()            # doctest: +SKIP
    >>> t.url                  # doctest: +SKIP
    'http://127.0.0.1:40123'
    """
    from kit.stack.auth.settings import AuthSettings

    folder = resolve_data_dir(data_dir)
    exposed = resolve_schemas(schemas)
    current = AuthSettings.load(folder)
    wanted = AuthSettings.from_options(dict(auth), base=current) if auth else current
    prepare_data_dir(folder)  # after the arguments are checked: a bad one creates nothing
    state = running_state(folder)
    if state is not None:
        if port and state.port != port:
            raise UsageError(f"a stack is already running for {folder} on port {state.port}",
                             fix=f"stop it first (`python -m kit stack down`) to move it to {port}")
        if schemas is not None and state.schemas != exposed:
            raise UsageError(f"a stack is already running for {folder} exposing "
                             f"{', '.join(state.schemas)}",
                             fix="stop it first (`python -m kit stack down`) to change --schemas")
        if wanted != current:
            raise UsageError(f"the stack running for {folder} has other auth settings",
                             fix="stop it first (`python -m kit stack down`), then start it with the new ones")
        target = _target(state, folder)
        announce(target, "reused")
        return target
    with start_lock(folder, timeout):  # one process starts it; a second caller waits, then reuses it
        state = running_state(folder)
        if state is not None:
            target = _target(state, folder)
            announce(target, "reused")
            return target
        if wanted != current:
            wanted.save(folder)
        return _spawn(folder, port, timeout, exposed)


@contextlib.contextmanager
def start_lock(folder: Path, timeout: float) -> Iterator[None]:
    """Hold ``<folder>/start.lock`` (an flock, released if the holder dies) while starting."""
    with hold(folder / "start.lock", timeout, f"starting the stack in {folder}",
              fix="wait for it, or read `python -m kit stack logs`"):
        yield


def _spawn(folder: Path, port: int, timeout: float, exposed: tuple[str, ...]) -> Target:
    """Start the stack process for ``folder`` (the start lock is held) and wait until it answers."""
    stack_keys.load_or_create(folder)
    stale = StackState.read(state_path(folder))
    if stale and _alive(stale.pid):  # alive but not answering: a hung stack from before
        _terminate(stale.pid, grace=5.0)
    state_path(folder).unlink(missing_ok=True)
    # a new cluster is made here (a copy of the template, kit.stack.pg_template) while the stack
    # process imports its modules; its Cluster.start waits for the lock, then starts PostgreSQL
    last = None if port else remembered_port(folder)  # an explicit port wins
    cluster = None if os.environ.get("KIT_DATABASE_URL") else Cluster(folder / "pg", folder / "postgres.json")
    with cluster.lock(timeout) if cluster else contextlib.nullcontext():
        with open(log_path(folder), "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "kit.stack.server", "--data-dir", str(folder), "--port", str(port),
                 "--prefer-port", str(last or 0), "--schemas", ",".join(exposed)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=str(folder),
            )
        try:
            if cluster:
                cluster.create(timeout)
        except BaseException:
            _terminate(proc.pid, grace=2.0)
            raise
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackStartFailed(f"the stack process exited with code {proc.returncode}: "
                                   f"{_last_line(log_path(folder))}",
                                   fix="read `python -m kit stack logs`; a busy --port or a bad "
                                       "KIT_DATABASE_URL are the usual causes")
        state = StackState.read(state_path(folder))
        if state and state.pid == proc.pid and _healthy(state.url, timeout=1.0):
            if not last:  # a restart keeps the URL an exported SUPABASE_URL holds; a port that
                remember_port(folder, state.port)  # was taken stays the one it goes back to
            target = _target(state, folder)
            moved = (f"port {last} was taken, so the URL changed (the next start goes back to {last} "
                     "when it is free)" if last and state.port != last else "")
            announce(target, "started", note=moved)
            return target
        time.sleep(0.02)
    _terminate(proc.pid, grace=2.0)
    raise StackStartFailed(f"the stack did not answer within {timeout:.0f} s",
                           fix="read `python -m kit stack logs`")


def stop(data_dir: str | os.PathLike[str] | None = None, *, timeout: float = 20.0) -> bool:
    """Stop the stack, and its PostgreSQL even when a ``kill -9`` left it running alone;
    True when either was running. Data is kept."""
    folder = resolve_data_dir(data_dir)
    state = StackState.read(state_path(folder))
    stopped = False
    if state is not None and _alive(state.pid):
        _terminate(state.pid, grace=timeout)
        stopped = True
    state_path(folder).unlink(missing_ok=True)
    if (folder / "pg").is_dir():
        stopped = Cluster(folder / "pg", folder / "postgres.json").stop() or stopped
    return stopped


def reset_plan(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """What ``reset`` would delete: the stack directory when it holds only what the stack
    made, else just those entries (files the user put there are kept)."""
    folder = resolve_data_dir(data_dir)
    if not folder.is_dir():
        return []
    ours = [folder / name for name in STACK_FILES if (folder / name).exists()]
    return [folder] if len(ours) == len(list(folder.iterdir())) else ours


def reset(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Stop the stack and delete what it created (and nothing else); returns what was deleted.

    Refused for a directory without the kit's marker, and while a PostgreSQL still runs on it.
    """
    folder = resolve_data_dir(data_dir)
    if folder.exists() and not (folder / MARKER).exists() and not (folder / "keys.json").exists():
        raise UsageError(f"{folder} does not look like a kit stack directory (no {MARKER} marker)",
                         fix="pass the stack's own --data-dir; the kit deletes only what it created")
    stop(folder)
    if (folder / "pg").is_dir() and Cluster(folder / "pg", folder / "postgres.json").running_pid():
        raise StackError(f"PostgreSQL still runs on {folder / 'pg'}: nothing was deleted",
                         fix="stop it (`python -m kit stack down`), then reset again")
    planned = reset_plan(folder)
    for path in planned:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return planned


def logs(data_dir: str | os.PathLike[str] | None = None, lines: int = 50) -> str:
    path = log_path(resolve_data_dir(data_dir))
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _last_line(path: Path) -> str:
    text = path.read_text(errors="replace").strip() if path.exists() else ""
    return text.splitlines()[-1] if text else "(no log output)"


def _terminate(pid: int, grace: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                return
        except ChildProcessError:
            if not _alive(pid):
                return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

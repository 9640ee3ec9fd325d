"""Where a stack keeps its files, and the state file that lets others find it running.

    .kit/stack/            the data directory (``KIT_STACK_DIR`` or ``--data-dir`` moves it)
      keys.json            secret and API keys (0600)
      pg/                  PostgreSQL data (a copy of the template cluster, kit.stack.pg_template),
                           unless KIT_DATABASE_URL is set
      postgres.json        its superuser password and socket directory (0600)
      storage/             object bytes
      state.json           pid, port, url, database url of the running stack
      port                 the API port it last had: a restart reuses it when free
      stack.log            the stack process's log
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from kit.errors import UsageError

DEFAULT_DIR = Path(".kit") / "stack"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None,
                     env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The data directory: the argument, else ``KIT_STACK_DIR``, else the nearest
    ``.kit/stack`` holding a running stack's state file in this or a parent directory
    (so a notebook in ``notebooks/`` finds the stack started at the repository root), else
    the nearest existing stack directory (stopped), else ``./.kit/stack``."""
    env = os.environ if env is None else env
    if data_dir is not None:
        return Path(data_dir).expanduser().resolve()
    if env.get("KIT_STACK_DIR"):
        return Path(env["KIT_STACK_DIR"]).expanduser().resolve()
    here = (cwd or Path.cwd()).resolve()
    folders = (here, *here.parents)
    for marker in ("state.json", "keys.json"):  # a running stack first, then a stopped one
        for folder in folders:
            if (folder / DEFAULT_DIR / marker).exists():
                return folder / DEFAULT_DIR
    return here / DEFAULT_DIR


DEFAULT_SCHEMAS = ("public", "graphql_public")  # PostgREST's db-schemas on Supabase


def resolve_schemas(schemas: str | Sequence[str] | None = None,
                    env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The schemas /rest/v1 exposes: the argument (``"public,api"`` or a sequence), else
    ``KIT_STACK_SCHEMAS``, else ``public, graphql_public``. Raises ``UsageError`` for an empty
    list or a name PostgreSQL cannot hold."""
    env = os.environ if env is None else env
    given = schemas if schemas is not None else env.get("KIT_STACK_SCHEMAS") or DEFAULT_SCHEMAS
    names = tuple(n.strip() for n in (given.split(",") if isinstance(given, str) else given))
    bad = [n for n in names if not n or "\x00" in n or len(n.encode()) > 63]
    if bad or not names:
        raise UsageError(f"bad schema list {given!r}: each name must be 1-63 bytes, no NUL",
                         fix="pass --schemas public,api (comma-separated schema names)")
    return names


@dataclass(frozen=True)
class StackState:
    pid: int
    port: int
    url: str
    database_url: str
    data_dir: str
    embedded_postgres: bool
    schemas: tuple[str, ...] = DEFAULT_SCHEMAS

    def write(self, path: Path) -> None:
        """Written 0600: the database URL may hold a password."""
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> StackState | None:
        try:
            fields = json.loads(path.read_text())
            return cls(**{**fields, "schemas": tuple(fields.get("schemas") or DEFAULT_SCHEMAS)})
        except (OSError, ValueError, TypeError):
            return None


MARKER = ".kit-stack"  # written when the kit creates a stack directory: reset trusts only it
# What a stack creates in its directory; `reset` deletes these and nothing else.
STACK_FILES = (MARKER, "keys.json", "keys.tmp", "state.json", "state.tmp", "stack.log",
               "postgres.json", "postgres.tmp", "postgres.log", "pg", "storage", "auth.json",
               "auth.tmp", "outbox.jsonl", "start.lock", "postgres.lock", "pg.tmp", "port",
               "pytest.lock", "started-by-pytest-run")  # the last two: kit.pytest.shared_stack


def prepare_data_dir(folder: Path) -> None:
    """Create the stack directory (0700) with its marker, or check an existing one is a kit
    stack's. Raises ``UsageError`` naming the path: a file, not writable, a read-only
    filesystem, or a directory that held other files before."""
    fix = "set KIT_STACK_DIR (or --data-dir) to a writable directory of its own, or unset it"
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"the stack directory {folder} is a file, not a directory", fix=fix)
    marker = folder / MARKER
    try:
        if folder.is_dir() and not marker.exists():
            if (folder / "keys.json").exists():
                pass  # a stack made before markers existed: adopt it
            elif any(folder.iterdir()):
                raise UsageError(f"{folder} is not empty and not a kit stack directory",
                                 fix="choose an empty or new directory for the stack")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not marker.exists():
            marker.write_text(json.dumps({"kit": "stack directory",
                                          "created_by_pid": os.getpid()}) + "\n")
        elif not os.access(folder, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise UsageError(f"the stack directory {folder} is not usable: {exc.strerror or exc}",
                         fix=fix) from None


def state_path(data_dir: Path) -> Path:
    return data_dir / "state.json"


def log_path(data_dir: Path) -> Path:
    return data_dir / "stack.log"


def remember_port(data_dir: Path, port: int) -> None:
    """Keep the API port beyond ``stop`` (state.json goes with the process), so a restarted
    stack keeps the URL a user exported (``SUPABASE_URL``)."""
    (data_dir / "port").write_text(f"{port}\n")


def remembered_port(data_dir: Path) -> int | None:
    """The API port the stack last had, or None (never started, or an unreadable file)."""
    try:
        port = int((data_dir / "port").read_text().strip())
    except (OSError, ValueError):
        return None
    return port if 0 < port < 65536 else None

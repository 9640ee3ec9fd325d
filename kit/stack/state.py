"""Where a stack keeps its files, and the state file that lets others find it running.

    .kit/stack/            the data directory (``KIT_STACK_DIR`` or ``--data-dir`` moves it)
      keys.json            secret and API keys (0600)
      pg/                  PostgreSQL data (pgserver), unless KIT_DATABASE_URL is set
      storage/             object bytes
      state.json           pid, port, url, database url of the running stack
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
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> StackState | None:
        try:
            fields = json.loads(path.read_text())
            return cls(**{**fields, "schemas": tuple(fields.get("schemas") or DEFAULT_SCHEMAS)})
        except (FileNotFoundError, ValueError, TypeError):
            return None


def state_path(data_dir: Path) -> Path:
    return data_dir / "state.json"


def log_path(data_dir: Path) -> Path:
    return data_dir / "stack.log"

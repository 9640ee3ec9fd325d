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
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class StackState:
    pid: int
    port: int
    url: str
    database_url: str
    data_dir: str
    embedded_postgres: bool

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> StackState | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None


def state_path(data_dir: Path) -> Path:
    return data_dir / "state.json"


def log_path(data_dir: Path) -> Path:
    return data_dir / "stack.log"

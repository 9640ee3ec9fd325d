"""What every service of the stack shares: the database, the keys, the data directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kit.stack.database import Database
from kit.stack.keys import Keys


@dataclass
class StackContext:
    db: Database
    keys: Keys
    data_dir: Path
    schemas: tuple[str, ...] = field(default=("public", "graphql_public"))  # REST's db-schemas

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

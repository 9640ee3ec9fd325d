"""What every service of the stack shares: the database, the keys, the data directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit.stack.database import Database
from kit.stack.keys import Keys


@dataclass
class StackContext:
    db: Database
    keys: Keys
    data_dir: Path

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

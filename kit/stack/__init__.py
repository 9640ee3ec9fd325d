"""The embedded Supabase-compatible stack: ``kit.stack.start()``, ``status()``, ``stop()``."""

from __future__ import annotations

from kit.faults.client import FaultsClient
from kit.stack.process import logs, reset, reset_plan, start, status, stop

__all__ = ["faults", "logs", "migrate", "reset", "reset_plan", "start", "status", "stop"]

faults = FaultsClient()  # the default stack's fault rules: kit.stack.faults.add({...})


def migrate(*files: str, data_dir: str | None = None) -> list[tuple[str, str]]:
    """Apply migration files to the running stack's database, non-destructively.

    >>> kit.stack.migrate("supabase/migrations/001_memory.sql")   # doctest: +SKIP
    [('supabase/migrations/001_memory.sql', 'applied')]
    """
    from pathlib import Path

    from kit.stack.database import apply_migrations

    target = status(data_dir)
    assert target.database_url is not None
    return apply_migrations(target.database_url, [Path(f) for f in files])

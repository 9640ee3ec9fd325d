"""The embedded Supabase-compatible stack: ``kit.stack.start()``, ``status()``, ``stop()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit.stack.process import logs, reset, reset_plan, start, status, stop

if TYPE_CHECKING:
    from kit.faults.client import FaultsClient
    from kit.stack.auth.mailer import Mail

__all__ = ["faults", "logs", "migrate", "outbox", "reset", "reset_plan", "start", "status", "stop"]

_faults: FaultsClient | None = None


def __getattr__(name: str) -> FaultsClient:
    """``kit.stack.faults``: the default stack's fault rules (``kit.stack.faults.add({...})``),
    made on first use so the stack's own process never imports httpx (cold start)."""
    global _faults
    if name != "faults":
        raise AttributeError(f"module 'kit.stack' has no attribute {name!r}")
    if _faults is None:
        from kit.faults.client import FaultsClient

        _faults = FaultsClient()
    return _faults


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


def outbox(data_dir: str | None = None, *, to: str | None = None, kind: str | None = None) -> list[Mail]:
    """The mails the stack's Auth sent (sign-up confirmations, magic links, recovery, invites,
    email changes), oldest first; ``to`` and ``kind`` filter. Each ``Mail`` has ``.otp`` and ``.link``.

    >>> kit.stack.outbox(to="ada@example.com")[-1]        # doctest: +SKIP
    <Mail signup to ada@example.com at 2026-11-30T15:49:22.123456+00:00>
    """
    from kit.stack.auth.mailer import read_outbox
    from kit.stack.state import resolve_data_dir

    return read_outbox(resolve_data_dir(data_dir), to=to, kind=kind)

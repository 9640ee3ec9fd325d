"""The kit's errors: one tree, each error says what went wrong and what to do.

    KitError
    ├── StackError              the embedded stack could not start, stop or answer
    │   ├── StackNotRunning
    │   └── StackStartFailed
    ├── TargetError             a Supabase target is misconfigured or unreachable
    ├── MigrationError          a migration file could not be applied (nothing was kept)
    └── UsageError              bad arguments or parameters given to a kit function

Third-party errors are translated at the boundary with ``raise KitError(...) from exc``.
"""

from __future__ import annotations

__all__ = [
    "KitError",
    "MigrationError",
    "StackError",
    "StackNotRunning",
    "StackStartFailed",
    "TargetError",
    "UsageError",
]


class KitError(Exception):
    """Base of every kit error: ``str(err)`` is one line naming the problem and the fix."""

    def __init__(self, problem: str, *, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.problem}. Fix: {self.fix}" if self.fix else self.problem


class StackError(KitError):
    """The embedded stack could not do what was asked."""


class StackNotRunning(StackError):
    """No embedded stack is running for this data directory."""


class StackStartFailed(StackError):
    """The stack process exited or did not answer in time."""


class TargetError(KitError):
    """A target (embedded, local, remote) is misconfigured or unreachable."""


class MigrationError(KitError):
    """A migration failed; its transaction was rolled back so nothing was half-applied."""


class UsageError(KitError):
    """A kit function or command was called with bad arguments."""

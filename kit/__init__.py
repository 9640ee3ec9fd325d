"""The Supabase sync/async debugging kit.

    import kit
    target = kit.stack.start()          # the embedded Supabase-compatible stack
"""

from __future__ import annotations

from kit import report, stack
from kit.errors import (
    KitError,
    MigrationError,
    StackError,
    StackNotRunning,
    StackStartFailed,
    TargetError,
    UsageError,
)
from kit.report import record
from kit.targets import Target

__all__ = [
    "KitError",
    "MigrationError",
    "StackError",
    "StackNotRunning",
    "StackStartFailed",
    "Target",
    "TargetError",
    "UsageError",
    "record",
    "report",
    "stack",
]
__version__ = "0.1.0"

"""The Supabase sync/async debugging kit.

    import kit
    target = kit.stack.start()          # the embedded Supabase-compatible stack
"""

from __future__ import annotations

from kit import render, report, stack
from kit.bodies import hidden_bodies
from kit.capture import Capture, Exchange, capture_mode
from kit.clients import Clients, clients
from kit.errors import (
    KitError,
    MigrationError,
    StackError,
    StackNotRunning,
    StackStartFailed,
    TargetError,
    UsageError,
)
from kit.explain import Explanation, explain
from kit.flags import flags_for
from kit.report import record
from kit.targets import Target, check_target, target

__all__ = [
    "Capture",
    "Clients",
    "Exchange",
    "Explanation",
    "KitError",
    "MigrationError",
    "StackError",
    "StackNotRunning",
    "StackStartFailed",
    "Target",
    "TargetError",
    "UsageError",
    "capture_mode",
    "check_target",
    "clients",
    "explain",
    "flags_for",
    "hidden_bodies",
    "record",
    "render",
    "report",
    "stack",
    "target",
]
__version__ = "0.1.0"

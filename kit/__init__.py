"""The Supabase sync/async debugging kit.

    import kit
    target = kit.stack.start()          # the embedded Supabase-compatible stack
"""

from __future__ import annotations

from kit import faults, render, report, stack
from kit import scan, scenarios, ui
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
from kit.diff import DiffReport, ModeResult, adiff, diff
from kit.explain import Explanation, explain
from kit.faults import FaultRule, FaultRuleError, FaultSet, FaultsClient
from kit.flags import flags_for
from kit.loop import AwaitOnSyncResult, LoopReport, Stall, await_guard, watch_loop
from kit.modes import MODES
from kit.operations import call_spec, method_call, operation
from kit.report import record
from kit.targets import Target, check_target, target

__all__ = [
    "AwaitOnSyncResult",
    "Capture",
    "Clients",
    "DiffReport",
    "Exchange",
    "Explanation",
    "FaultRule",
    "FaultRuleError",
    "FaultSet",
    "FaultsClient",
    "KitError",
    "LoopReport",
    "MODES",
    "MigrationError",
    "ModeResult",
    "StackError",
    "StackNotRunning",
    "StackStartFailed",
    "Stall",
    "Target",
    "TargetError",
    "UsageError",
    "adiff",
    "await_guard",
    "call_spec",
    "capture_mode",
    "check_target",
    "clients",
    "diff",
    "explain",
    "faults",
    "flags_for",
    "hidden_bodies",
    "method_call",
    "operation",
    "record",
    "render",
    "report",
    "scan",
    "scenarios",
    "stack",
    "target",
    "ui",
    "watch_loop",
]
__version__ = "0.1.0"

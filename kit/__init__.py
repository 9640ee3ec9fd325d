"""The Supabase sync/async debugging kit.

    import kit
    project = kit.target("embedded")                 # the kit's own Supabase-compatible stack
    report = kit.diff(lambda c: c.table("chats").select("*").execute(), target=project)
    kit.explain(report)

Names are imported on first use (PEP 562), so ``import kit`` stays fast: the stack
process, the CLI and ``kit scan`` do not pay for supabase, pandas or matplotlib.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from kit.errors import (
    KitError,
    MigrationError,
    StackError,
    StackNotRunning,
    StackStartFailed,
    TargetError,
    UsageError,
)

# name -> module it lives in ("" for a submodule of kit with that name)
_LAZY: dict[str, str] = {
    "AwaitOnSyncResult": "kit.loop",
    "Capture": "kit.capture",
    "Clients": "kit.clients",
    "DiffReport": "kit.diff",
    "DoctorReport": "kit.doctor",
    "Exchange": "kit.capture",
    "Explanation": "kit.explain",
    "FaultRule": "kit.faults",
    "FaultRuleError": "kit.faults",
    "FaultSet": "kit.faults",
    "FaultsClient": "kit.faults",
    "LoopReport": "kit.loop",
    "MODES": "kit.modes",
    "ModeResult": "kit.diff",
    "Stall": "kit.loop",
    "Target": "kit.targets",
    "adiff": "kit.diff",
    "await_guard": "kit.loop",
    "call_spec": "kit.operations",
    "capture_mode": "kit.capture",
    "check_target": "kit.targets",
    "clients": "kit.clients",
    "diff": "kit.diff",
    "doctor": "kit.doctor",
    "env_names": "kit.targets",
    "explain": "kit.explain",
    "faults": "",
    "flags_for": "kit.flags",
    "hidden_bodies": "kit.bodies",
    "method_call": "kit.operations",
    "operation": "kit.operations",
    "record": "kit.report",
    "render": "",
    "report": "",
    "scan": "",
    "scenarios": "",
    "stack": "",
    "target": "kit.targets",
    "ui": "",
    "watch_loop": "kit.loop",
}

__all__ = [
    "AwaitOnSyncResult",
    "Capture",
    "Clients",
    "DiffReport",
    "DoctorReport",
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
    "doctor",
    "env_names",
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


# Functions named like the submodule they live in: importing that submodule (anywhere, any
# time) must not replace the function on the facade with the module.
_SHADOWING = frozenset({"clients", "diff", "doctor", "explain"})


class _Facade(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWING and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'kit' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name] or f"kit.{name}")
    value = module if not _LAZY[name] else getattr(module, name)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from kit import faults, render, report, scan, scenarios, stack, ui
    from kit.bodies import hidden_bodies
    from kit.capture import Capture, Exchange, capture_mode
    from kit.clients import Clients, clients
    from kit.diff import DiffReport, ModeResult, adiff, diff
    from kit.doctor import DoctorReport, doctor
    from kit.explain import Explanation, explain
    from kit.faults import FaultRule, FaultRuleError, FaultsClient, FaultSet
    from kit.flags import flags_for
    from kit.loop import AwaitOnSyncResult, LoopReport, Stall, await_guard, watch_loop
    from kit.modes import MODES
    from kit.operations import call_spec, method_call, operation
    from kit.report import record
    from kit.targets import Target, check_target, env_names, target

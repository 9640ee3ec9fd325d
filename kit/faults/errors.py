"""Errors of the fault injector, in the kit's tree.

    KitError
    ├── UsageError
    │   └── FaultRuleError      a rule is malformed (one line: the bad field, the known names)
    └── StackError
        └── FaultAdminError     the stack's /_kit/faults route refused a request
"""

from __future__ import annotations

from kit.errors import StackError, UsageError

__all__ = ["FaultAdminError", "FaultRuleError"]


class FaultRuleError(UsageError):
    """A fault rule is malformed: one line naming the bad field and the known names."""


class FaultAdminError(StackError):
    """The stack's fault admin route refused or failed a request."""

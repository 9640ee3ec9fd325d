"""Errors of the fault injector (part of the kit's tree: ``KitError`` → ``UsageError`` → ``FaultRuleError``)."""

from __future__ import annotations

from kit.errors import StackError, UsageError

__all__ = ["FaultAdminError", "FaultRuleError"]


class FaultRuleError(UsageError):
    """A fault rule is malformed: one line naming the bad field and the known names."""


class FaultAdminError(StackError):
    """The stack's fault admin route refused or failed a request."""

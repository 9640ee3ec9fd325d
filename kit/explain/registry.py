"""The registry of explainers: small pure functions ``Case -> Explanation | None``."""

from __future__ import annotations

from collections.abc import Callable

from kit.explain.case import Case
from kit.explain.model import Explanation
from kit.registry import Registry

__all__ = ["EXPLAINERS", "Explainer", "explainer", "register"]

Explainer = Callable[[Case], "Explanation | None"]
EXPLAINERS: Registry[Explainer] = Registry("explainer")
register = EXPLAINERS.register


def explainer(name: str) -> Explainer:
    """The explainer called ``name``; an unknown name raises UsageError listing the known ones."""
    return EXPLAINERS.get_or_fail(name)

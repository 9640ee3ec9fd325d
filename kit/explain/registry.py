"""The registry of explainers: small pure functions ``Case -> Explanation | None``."""

from __future__ import annotations

from collections.abc import Callable

from kit.errors import UsageError
from kit.explain.case import Case
from kit.explain.model import Explanation

__all__ = ["EXPLAINERS", "Explainer", "explainer", "register"]

Explainer = Callable[[Case], "Explanation | None"]
EXPLAINERS: dict[str, Explainer] = {}


def register(name: str) -> Callable[[Explainer], Explainer]:
    """``@register("pgrst116")`` adds an explainer; names are unique."""
    def add(fn: Explainer) -> Explainer:
        if name in EXPLAINERS:
            raise UsageError(f"an explainer named {name!r} is already registered",
                             fix="pick another name")
        EXPLAINERS[name] = fn
        return fn
    return add


def explainer(name: str) -> Explainer:
    """The explainer called ``name``; an unknown name raises UsageError listing the known ones."""
    try:
        return EXPLAINERS[name]
    except KeyError:
        raise UsageError(f"no explainer named {name!r}",
                         fix=f"use one of: {', '.join(sorted(EXPLAINERS))}") from None

"""``kit.record(checks)``: a notebook hands its checks to the report runner.

    kit.record(report.checks)                                   # a DiffReport's checks
    kit.record([Check("bytes are the image", ok)], figures={"max_stall_ms": 212.0})

The checks are displayed as a table (text/html, text/plain) and, under
``kit.checks.CHECKS_MIME``, as JSON the runner reads back from the executed notebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from kit.checks import CHECKS_MIME, Check, Checks, render_checks_html, render_checks_text

Figures = Mapping[str, "float | Mapping[str, float]"]


def checks_bundle(checks: Checks | Iterable[Check] | Check, figures: Figures | None = None,
                  *, scenario: str = "") -> dict[str, Any]:
    """The display bundle ``record`` shows: ``{CHECKS_MIME: {...}, "text/html": ..., "text/plain": ...}``.

    ``figures`` is either ``{"max_stall_ms": 212.0}`` (added to every check) or
    ``{"check name": {"max_stall_ms": 212.0}}`` (added to that check).
    """
    collected = _as_checks(checks, scenario)
    if figures:
        collected = _with_figures(collected, figures)
    return {CHECKS_MIME: collected.to_dict(), "text/html": render_checks_html(collected),
            "text/plain": render_checks_text(collected)}


def record(checks: Checks | Iterable[Check] | Check, figures: Figures | None = None,
           *, scenario: str = "") -> None:
    """Display checks for the report runner (and the reader); returns nothing.

    >>> record(Checks([Check("fixed variant returns bytes", True)]))   # doctest: +SKIP
    """
    from IPython.display import display

    display(checks_bundle(checks, figures, scenario=scenario), raw=True)


def _as_checks(checks: Checks | Iterable[Check] | Check, scenario: str) -> Checks:
    if isinstance(checks, Check):
        return Checks([checks], scenario=scenario)
    if isinstance(checks, Checks):
        return Checks(checks, scenario=scenario or checks.scenario)
    items = list(checks)
    for item in items:
        if not isinstance(item, Check):
            raise TypeError(f"kit.record takes Check objects, got {type(item).__name__}: "
                            "build them with kit.checks.Check(name, passed, detail)")
    return Checks(items, scenario=scenario)


def _with_figures(checks: Checks, figures: Figures) -> Checks:
    names = {c.name for c in checks}
    per_check = {k: v for k, v in figures.items() if isinstance(v, Mapping)}
    unknown = sorted(set(per_check) - names)
    if unknown:
        raise KeyError(f"figures name unknown check(s) {', '.join(map(repr, unknown))}; "
                       f"known: {', '.join(sorted(names)) or '(none)'}")
    flat = {k: float(v) for k, v in figures.items() if not isinstance(v, Mapping)}
    updated = []
    for check in checks:
        extra = {k: float(v) for k, v in per_check.get(check.name, {}).items()}
        updated.append(replace(check, figures={**check.figures, **flat, **extra}))
    return Checks(updated, scenario=checks.scenario)

"""Explain a failure in plain words: cause, evidence, fix, confidence, and where to learn more.

    try:
        await client.table("chats").select("*").execute()
    except Exception as exc:
        kit.explain(exc, capture=c.capture)

``explain`` accepts an exception, an Exchange, a Capture, a result (APIResponse, bytes,
a coroutine), a log line, a warning, a list of those, or any object with
``explain_inputs()`` (a diff report). Every registered explainer looks at the gathered
case; matches are ranked by confidence. Nothing matched → an explanation that says
"not recognised" and shows the evidence: the kit never guesses silently.
"""

from __future__ import annotations

from typing import Any

from kit.capture import Capture
from kit.explain import rules_api, rules_async, rules_html
from kit.explain.case import Case, build_case
from kit.explain.model import NOTEBOOKS, Evidence, Explanation, Fix, installed_versions
from kit.explain.registry import EXPLAINERS, explainer, register

__all__ = ["EXPLAINERS", "NOTEBOOKS", "Case", "Evidence", "Explanation", "Fix", "build_case",
           "explain", "explainer", "installed_versions", "register"]
_RULES = (rules_api, rules_async, rules_html)


def explain(*items: Any, capture: Capture | None = None) -> Explanation:
    """The best explanation for what went wrong, with the other matches in ``.alternatives``.

    >>> kit.explain("TypeError: object APIResponse can't be used in 'await' expression").explainer
    'await_on_sync_result'
    """
    case = build_case(*items, capture=capture)
    found = [e for e in (fn(case) for fn in EXPLAINERS.values()) if e is not None]
    found.sort(key=lambda e: -e.confidence)
    if not found:
        return _not_recognised(case)
    best, *others = found
    return Explanation(best.explainer, best.title, best.cause, best.evidence, best.fix,
                       best.confidence, best.notebook, tuple(others))


def _not_recognised(case: Case) -> Explanation:
    from kit.flags import flags_for

    lines = [t[:300] for t in case.texts[:5]]
    lines += [f"result: {type(r).__name__}" for r in case.results[:3]]
    flags = flags_for([*case.exceptions, *case.exchanges, *case.results])
    if flags:
        lines.append(f"flags: {', '.join(flags)}")
    if case.is_empty:
        lines.append("nothing to explain was given (pass an exception, exchange or capture)")
    return Explanation(
        "not_recognised", "Not recognised",
        "None of the kit's explainers matches this failure, so the kit does not guess. The "
        "evidence below is what it saw; render it with kit.render.render_value or capture the "
        f"run with kit.clients. Known explainers: {', '.join(sorted(EXPLAINERS))}.",
        Evidence(tuple(lines), tuple(case.exchanges[:5])), None, 0.0, NOTEBOOKS["start"])

"""Explain a failure in plain words: cause, evidence, fix, confidence, and where to learn more.

    try:
        await client.table("chats").select("*").execute()
    except Exception as exc:
        kit.explain(exc, capture=c.capture)

``explain`` accepts an exception, an Exchange, a Capture, a result (APIResponse, bytes,
a coroutine), a log line, a warning, a loop watch (``kit.watch_loop()``, a LoopReport or a
Stall: stalls are read from the stacks sampled during them), a list of those, or any object
with ``explain_inputs()`` (a diff report). Every registered explainer looks at the gathered
case; matches are ranked by confidence (the scale is in ``kit.explain.model``: a service's own
error code 0.95, an SDK signature 0.9, ... a loose signal 0.5). Service error codes are
explained from the catalogue (``catalogue.yaml``: PostgREST, SQLSTATE, Storage, Auth). Every
explanation lists the facts it rests on: the exception chain, the HTTP status, the error code,
the content type, the exchanges and the installed versions. Nothing matched → an explanation that
says "not recognised", shows those facts and where to look: the kit never guesses silently.
"""

from __future__ import annotations

from typing import Any

from kit.capture import Capture
from kit.explain import (
    rules_api,
    rules_async,
    rules_catalogue,
    rules_edge,
    rules_html,
    rules_misuse,
    rules_report,
    rules_stall,
    rules_transport,
)
from kit.explain.case import Case, build_case
from kit.explain.catalogue import CATALOGUE, CatalogueEntry, find_entry
from kit.explain.evidence import ServiceAnswer, fact_lines, same_exchanges, service_answers
from kit.explain.model import CONFIDENCE, NOTEBOOKS, Evidence, Explanation, Fix, installed_versions
from kit.explain.registry import EXPLAINERS, explainer, register

__all__ = ["CATALOGUE", "CONFIDENCE", "EXPLAINERS", "NOTEBOOKS", "Case", "CatalogueEntry",
           "Evidence", "Explanation", "Fix", "ServiceAnswer", "build_case", "explain", "explainer",
           "find_entry", "installed_versions", "register", "service_answers"]
_RULES = (rules_api, rules_async, rules_catalogue, rules_edge, rules_html, rules_misuse,
          rules_report, rules_stall, rules_transport)


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
    return Explanation(best.explainer, best.title, best.cause, _with_facts(best.evidence, case),
                       best.fix, best.confidence, best.notebook, tuple(others), docs=best.docs)


def _with_facts(evidence: Evidence, case: Case) -> Evidence:
    """The rule's own evidence, then the case's plain facts it did not already list. Exchanges
    count by request (``same_exchanges``): every mode that made a shown request identically
    joins its line, then up to three other failing requests; six requests in all."""
    own = {id(ex) for ex in evidence.exchanges}
    failing = [ex for ex in case.exchanges if id(ex) not in own and not ex.ok]
    groups = same_exchanges([*evidence.exchanges, *failing])
    shown = [g for g in groups if any(id(ex) in own for ex in g.exchanges)]
    shown += [g for g in groups if not any(id(ex) in own for ex in g.exchanges)][:3]
    exchanges = [ex for same in shown[:6] for ex in same.exchanges]
    lines = list(evidence.lines)
    lines += [fact for fact in fact_lines(case, shown=exchanges) if fact not in lines]
    return Evidence(tuple(lines), tuple(exchanges))


def _not_recognised(case: Case) -> Explanation:
    from kit.flags import flags_for

    lines = fact_lines(case, limit=12)
    lines += [t[:300] for t in case.texts[:5] if t[:300] not in lines]
    lines += [f"{name}: {value}" for name, value in case.facts.items() if name != "diff_rows"]
    flags = flags_for([*case.exceptions, *case.exchanges, *case.results])
    if flags:
        lines.append(f"flags: {', '.join(flags)}")
    if case.is_empty:
        lines.append("nothing to explain was given (pass an exception, exchange or capture)")
    where = ("Where to look: the exception chain and the exchanges above (status, content type, "
             "body: kit.render.render_value(exc) shows a body hidden in an exception); capture "
             "the run with kit.clients(target) to record every request; the service's logs "
             "(`python -m kit stack logs`, or the dashboard's API/Postgres logs).")
    exchanges = tuple(ex for same in same_exchanges(case.exchanges)[:5] for ex in same.exchanges)
    return Explanation(
        "not_recognised", "Not recognised",
        "None of the kit's explainers matches this failure, so the kit does not guess. The "
        f"facts below are what it saw. {where}",
        Evidence(tuple(lines), exchanges), None, CONFIDENCE["none"],
        NOTEBOOKS["start"])

"""Pure renderers for a DiffReport: the table, the verdict, explanations and exchanges."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.diff.report import DiffReport, ModeResult

_OK, _BAD = "#1a7f37", "#cf222e"
# Fits 1280 px: cells wrap (long SDK paths and fingerprints included) and read left to right
# (JupyterLab's own CSS right-aligns table cells); flags and explanation go under the row.
TABLE_STYLE = ("<style>table.kit-diff{table-layout:auto;max-width:100%;border-collapse:collapse}"
               "table.kit-diff td,table.kit-diff th{text-align:left!important;vertical-align:top;"
               "padding:2px 6px;overflow-wrap:break-word}"
               "table.kit-diff code{white-space:normal;overflow-wrap:anywhere}"
               "table.kit-diff tr.kit-diff-more td{border-top:none;padding-bottom:6px;font-size:90%}</style>")


def _outcome_text(row: ModeResult) -> str:
    if row.outcome == "raised":
        return f"raised {row.exception_type}"
    if row.outcome == "coroutine":
        return "coroutine (never awaited)"
    return "value"


def _equal_text(row: ModeResult) -> str:
    if row.outcome != "value":
        return "-"
    return {None: "baseline", True: "yes", False: "NO"}[row.equal_to_baseline]


def _exchanges_text(row: ModeResult) -> str:
    if not len(row.exchanges):
        return "0"
    statuses = ",".join(str(s) for s in sorted({s for s in row.statuses}, key=str))
    return f"{len(row.exchanges)} ({statuses}; {', '.join(row.content_types) or '-'})"


def _writes_text(row: ModeResult) -> str:
    """``4× insert table 'todos' HTTP 201, rolled back; removed 4 objects the kit created (...)``."""
    from collections import Counter

    counted = Counter(str(w) for w in row.writes)
    parts = [f"{n}× {what}" for what, n in counted.items()]
    if row.removed:
        parts.append(f"removed {len(row.removed)} objects the kit created ({', '.join(row.removed[:2])}"
                     f"{', ...' if len(row.removed) > 2 else ''})")
    return "; ".join(parts)


def render_report_text(report: DiffReport) -> str:
    lines = [repr(report), report.verdict]
    if report.masks.fields or report.masks.renames:
        lines.append(report.masks.text())
    lines.append("")
    header = (f"{'mode':<11} {'outcome':<26} {'=base':<8} {'wall ms':>8}  {'longest loop gap':<30}"
              "  exchanges")
    lines.append(header)
    for row in report.rows:
        lines.append(f"{row.mode:<11} {_outcome_text(row):<26} {_equal_text(row):<8} "
                     f"{row.wall_ms:>8.1f}  {row.loop_text:<30}  {_exchanges_text(row)}")
        for where in row.traced_to[:3]:
            lines.append(f"{'':<11} stall at {where}")
        if row.writes or row.removed:
            lines.append(f"{'':<11} wrote: {_writes_text(row)}")
    return "\n".join(lines)


def _row_html(row: ModeResult) -> str:
    from kit.diff.report import _explanation_text

    colour = _OK if row.ok else _BAD
    error = (f"<b>{html.escape(row.exception_type)}</b>: "
             f"{html.escape(row.exception_message[:160])}") if row.error is not None else ""
    if row.warnings:
        error += f"<br><i>{html.escape(row.warnings[0])}</i>"
    traced = "<br>".join(f"<code>{html.escape(t)}</code>" for t in row.traced_to[:3])
    flags = " ".join(f"<code style='color:{_BAD}'>{html.escape(f)}</code>" for f in row.flags)
    cells = [
        f"<b>{html.escape(row.mode)}</b><br><small>{html.escape(row.run.how)}</small>",
        (f"<span style='color:{colour}'>{html.escape(_outcome_text(row))}</span>"
         + (f"<br><small>{html.escape(row.copies)}</small>" if len(row.run.outcomes) > 1 else "")),
        f"<code>{html.escape(str(row.fingerprint))}</code>" if row.fingerprint else "",
        html.escape(_equal_text(row)), error, f"{row.wall_ms:.1f}", html.escape(row.loop_text),
        traced, html.escape(_exchanges_text(row)), html.escape(_writes_text(row)),
    ]
    main = "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
    # flags and the explanation are long: a row of their own under the mode's row, full width
    explanation = html.escape(_explanation_text(row.explanation))
    more = " ".join(part for part in (flags, explanation and f"<i>{explanation}</i>") if part)
    if not more:
        return main
    return main + f"<tr class='kit-diff-more'><td></td><td colspan='{len(cells) - 1}'>{more}</td></tr>"


def render_report_html(report: DiffReport) -> str:
    from kit.diff.integration import explanation_html, render_exchange_html

    heads = ["mode", "outcome", "result fingerprint", "= baseline", "exception", "wall ms",
             "longest loop gap", "stalls traced to", "exchanges", "writes"]
    table = (TABLE_STYLE + "<table class='kit-diff'><thead><tr>" + "".join(f"<th>{h}</th>" for h in heads)
             + "</tr></thead><tbody>" + "".join(_row_html(r) for r in report.rows)
             + "</tbody></table>")
    head = (f"<div class='kit-diff-report'><p><code>{html.escape(repr(report))}</code> "
            f"(concurrency {report.concurrency}, stall threshold {report.threshold_ms:g} ms)</p>")
    parts = [head, f"<p><b>Verdict:</b> {html.escape(report.verdict)}</p>"]
    if report.masks.fields or report.masks.renames:
        parts.append(f"<p><small>{html.escape(report.masks.text())}</small></p>")
    parts.append(table)
    failing = [r for r in report.rows if not r.ok or r.stalls]
    for row in failing:
        explanation = explanation_html(row.explanation)
        if explanation:
            parts.append(f"<h4>{html.escape(row.mode)}</h4>{explanation}")
    for row in report.rows:
        if not len(row.exchanges):
            continue
        bodies = "".join(render_exchange_html(ex) for ex in row.exchanges)
        parts.append(f"<details><summary>{html.escape(row.mode)}: {len(row.exchanges)} exchanges"
                     f"</summary>{bodies}</details>")
    parts.append("</div>")
    return "".join(parts)

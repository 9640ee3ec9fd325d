"""Pure renderers for a report: the terminal table and ``index.html``.

    print(render_summary_text(summary))
    Path("index.html").write_text(render_index(summary, comparison))
"""

from __future__ import annotations

import html
import json
from typing import Any

from kit.report.baseline import Comparison
from kit.report.results import NotebookResult, ReportSummary

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1f2328}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}
.error{color:#9a6700;font-weight:bold}.muted{color:#656d76}
.banner{padding:0.6rem 1rem;border-radius:6px;margin-bottom:1rem}
.banner.ok{background:#dafbe1}.banner.bad{background:#ffebe9}.banner.warn{background:#fff8c5}
code{background:#f6f8fa;padding:0 3px}
"""

_EXIT_MEANING = {0: "all checks passed", 1: "a check failed", 2: "a notebook failed to execute"}


def _e(value: object) -> str:
    return html.escape(str(value))


def _checks_cell(result: NotebookResult) -> str:
    passed = len(result.checks) - len(result.failed_checks)
    return f"{passed}/{len(result.checks)}"


def render_summary_text(summary: ReportSummary) -> str:
    """The table printed at the end of a run (fixed columns, no colour)."""
    rows = [("notebook", "status", "checks", "failed", "time")]
    for n in summary.notebooks:
        rows.append((n.name, n.status, _checks_cell(n), str(len(n.failed_checks)),
                     f"{n.duration_s:.1f} s"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    for n in summary.notebooks:
        if not n.executed:
            lines.append(f"  {n.name}: {n.status}: {n.error}")
        for check in n.failed_checks:
            lines.append(f"  FAIL {n.name}: {check.name}" + (f" — {check.detail}" if check.detail else ""))
    lines.append(f"exit {summary.exit_code}: {_EXIT_MEANING[summary.exit_code]}")
    return "\n".join(lines)


def _status_html(n: NotebookResult) -> str:
    if not n.executed:
        return f"<span class='error'>{_e(n.status)}</span>"
    return "<span class='fail'>checks failed</span>" if n.failed_checks else "<span class='pass'>passed</span>"


def _links(n: NotebookResult) -> str:
    return " · ".join(f"<a href='{_e(path)}'>{_e(kind)}</a>" for kind, path in sorted(n.files.items()))


def render_summary_html(summary: ReportSummary) -> str:
    """The scenarios table: one row per notebook."""
    rows = "".join(
        f"<tr><td><a href='#{_e(n.name)}'>{_e(n.name)}</a></td><td>{_status_html(n)}</td>"
        f"<td>{_checks_cell(n)}</td><td>{n.duration_s:.1f} s</td><td>{_links(n)}</td></tr>"
        for n in summary.notebooks)
    return ("<table id='summary' class='kit-report-summary'><thead><tr><th>notebook</th>"
            "<th>result</th><th>checks passed</th><th>duration</th><th>pages</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _figures(figures: dict[str, float]) -> str:
    return ", ".join(f"{_e(k)} = {v:g}" for k, v in sorted(figures.items()))


def render_notebook_section(n: NotebookResult) -> str:
    """One notebook: its status, every check with detail and figures, its parameters."""
    rows = []
    for c in n.checks:
        verdict = "<span class='pass'>PASS</span>" if c.passed else "<span class='fail'>FAIL</span>"
        note = " <span class='muted'>(expected failure)</span>" if c.expected_failure else ""
        rows.append(f"<tr><td>{verdict}</td><td>{_e(c.name)}{note}</td><td>{_e(c.detail)}</td>"
                    f"<td>{_figures(c.figures)}</td></tr>")
    table = ("<table class='kit-checks'><thead><tr><th>result</th><th>check</th><th>detail</th>"
             f"<th>figures</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
             if rows else "<p class='muted'>no checks recorded</p>")
    error = (f"<p class='error'>{_e(n.status)}: {_e(n.error)}</p>" if not n.executed else "")
    params = _e(json.dumps(n.parameters, indent=2, sort_keys=True, default=str))
    title = _e(n.name) + (f" <span class='muted'>— {_e(n.scenario)}</span>" if n.scenario else "")
    return (f"<section id='{_e(n.name)}'><h2>{title}</h2><p>{_status_html(n)} in "
            f"{n.duration_s:.1f} s · {_links(n)}</p>{error}{table}<details><summary>parameters"
            f"</summary><pre>{params}</pre></details></section>")


def render_comparison_html(comparison: Comparison) -> str:
    """Changes since the baseline report, newest problems first."""
    items = [f"<li class='fail'>newly failing: {_e(nb)} — {_e(check)}</li>"
             for nb, check in comparison.newly_failing]
    items += [f"<li class='error'>newly not executed: {_e(nb)}</li>"
              for nb in comparison.newly_not_executed]
    items += [f"<li class='pass'>newly passing: {_e(nb)} — {_e(check)}</li>"
              for nb, check in comparison.newly_passing]
    seen = set()
    for ch in comparison.figure_changes:
        key = (ch.notebook, ch.figure, ch.old, ch.new)
        if key not in seen:
            seen.add(key)
            items.append(f"<li>{_e(ch.notebook)}: {_e(ch.figure)} {ch.old:g} → {ch.new:g} "
                         f"(×{ch.ratio:.2f})</li>")
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>no changes</p>"
    bad = comparison.newly_failing or comparison.newly_not_executed
    return (f"<div id='baseline' class='banner {'bad' if bad else 'warn' if items else 'ok'}'>"
            f"<strong>Compared with {_e(comparison.baseline)}</strong>{body}</div>")


def _meta_rows(summary: ReportSummary) -> str:
    target = f"{summary.target.get('kind')} {summary.target.get('url', '')}"
    rows: list[tuple[str, Any]] = [("profile", summary.profile), ("target", target),
                                   ("started", summary.started),
                                   ("duration", f"{summary.duration_s:.1f} s")]
    rows += [(name, version) for name, version in sorted(summary.versions.items())]
    return "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)


def render_index(summary: ReportSummary, comparison: Comparison | None = None,
                 environment: str = "") -> str:
    """The whole ``index.html`` page (self-contained, no scripts): the report's own exit line
    first (the only "exit" on the page), then ``environment``, the ``kit doctor`` section."""
    code = summary.exit_code
    banner = (f"<div class='banner {'ok' if code == 0 else 'bad'}'><strong>exit {code}</strong>: "
              f"{_EXIT_MEANING[code]} — {summary.checks_total - summary.checks_failed}/"
              f"{summary.checks_total} checks passed, {len(summary.not_executed)} of "
              f"{len(summary.notebooks)} notebooks not executed</div>")
    sections = "".join(render_notebook_section(n) for n in summary.notebooks)
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>kit report {_e(summary.started)}</title><style>{_CSS}</style></head><body>"
            f"<h1>kit report</h1>{banner}{environment}"
            f"{render_comparison_html(comparison) if comparison else ''}"
            f"<table class='meta'>{_meta_rows(summary)}</table>"
            f"<h2>Scenarios</h2>{render_summary_html(summary)}{sections}</body></html>")

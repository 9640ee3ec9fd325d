"""Pure renderers for a ``DoctorReport``: terminal text, an HTML table, JSON.

    print(render_text(report)); Path("doctor.html").write_text(render_html(report))

``FORMATS`` maps the CLI's ``--format`` names to these functions.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from kit.doctor.model import ERROR, FAIL, INFO, OK, WARN, DoctorCheck, DoctorReport

__all__ = ["FORMATS", "render_html", "render_json", "render_text"]

_LABEL = {OK: "ok", INFO: "info", WARN: "WARN", FAIL: "FAIL", ERROR: "ERROR"}
_COLOUR = {OK: "#1a7f37", INFO: "#656d76", WARN: "#9a6700", FAIL: "#cf222e", ERROR: "#8250df"}
_EXIT_MEANING = {0: "nothing failed", 1: "a check failed", 2: "a check could not run"}


def _headline(report: DoctorReport) -> str:
    counts = ", ".join(f"{len(report.by_status(s))} {word}" for s, word in
                       ((FAIL, "failed"), (WARN, "warnings"), (ERROR, "could not run")))
    return f"kit doctor {report.path}: {len(report.checks)} checks, {counts}"


def _sections(report: DoctorReport) -> dict[str, list[DoctorCheck]]:
    grouped: dict[str, list[DoctorCheck]] = {}
    for check in report.checks:
        grouped.setdefault(check.section, []).append(check)
    return grouped


def render_text(report: DoctorReport) -> str:
    """Every check, grouped by section, with its evidence and fix; then the exit code."""
    lines = [_headline(report)]
    if report.lowest_python:
        lines.append(f"lowest supported Python: {report.lowest_python}")
    for section, checks in _sections(report).items():
        lines.append("")
        lines.append(f"== {section}")
        for c in checks:
            where = f" [{c.where}]" if c.where else ""
            lines.append(f"{_LABEL[c.status]:>5}  {c.name}{where}: {c.evidence}")
            if c.fix and c.status != OK:
                lines.append(f"       fix: {c.fix}")
    if report.run_command:
        lines += ["", f"run the app with: {report.run_command}"]
    lines += ["", f"exit {report.exit_code}: {_EXIT_MEANING[report.exit_code]}"]
    return "\n".join(lines)


def _e(value: object) -> str:
    return html.escape(str(value))


def _verdict_html(report: DoctorReport) -> str:
    """What the doctor's outcome means, coloured by its worst finding. No "exit N": in a
    notebook or beside a report's own exit line, only the command's exit code says "exit"."""
    worst = ERROR if report.errors else FAIL if report.failed else WARN if report.by_status(WARN) else OK
    words = {ERROR: f"{len(report.errors)} could not run", FAIL: f"{len(report.failed)} failed: see "
             "the FAIL rows", WARN: "nothing failed (the warnings are advice)", OK: "nothing failed"}
    return f"<span class='doctor-{worst}' style='color:{_COLOUR[worst]};font-weight:bold'>{words[worst]}</span>"


def render_html(report: DoctorReport) -> str:
    """A self-contained ``<section>``: one table row per check (for notebooks and index.html)."""
    rows = []
    for section, checks in _sections(report).items():
        for i, c in enumerate(checks):
            head = (f"<th rowspan='{len(checks)}' style='vertical-align:top'>{_e(section)}</th>"
                    if i == 0 else "")
            where = f"<br><code>{_e(c.where)}</code>" if c.where else ""
            rows.append(f"<tr>{head}<td style='color:{_COLOUR[c.status]};font-weight:bold'>"
                        f"{_LABEL[c.status]}</td><td>{_e(c.name)}{where}</td>"
                        f"<td>{_e(c.evidence)}</td><td>{_e(c.fix) if c.status != OK else ''}</td></tr>")
    run = (f"<p>Run the app with: <code>{_e(report.run_command)}</code></p>"
           if report.run_command else "")
    return (f"<section id='doctor' class='kit-doctor'><details{' open' if report.exit_code else ''}>"
            f"<summary><strong>Environment (kit doctor)</strong>: {_e(_headline(report))} — "
            f"{_verdict_html(report)}</summary>{run}"
            "<table class='kit-doctor-checks'><thead><tr><th>section</th><th>status</th>"
            f"<th>check</th><th>evidence</th><th>fix</th></tr></thead><tbody>{''.join(rows)}"
            "</tbody></table></details></section>")


def render_json(report: DoctorReport) -> str:
    return json.dumps(report.to_dict(), indent=2)


FORMATS: dict[str, Callable[[DoctorReport], str]] = {
    "text": render_text, "json": render_json, "html": render_html}

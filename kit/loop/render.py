"""Pure renderers for loop reports and stalls: values in, text or HTML out."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.loop.report import LoopReport, Stall


def render_stall_text(stall: Stall) -> str:
    line = f"stall {stall.duration_ms:.0f} ms at {stall.traced_to}"
    if stall.user_frame is not None and stall.user_frame.source_line:
        line += f"\n    {stall.user_frame.source_line}"
    for site in stall.sites[1:]:
        line += f"\n  and at {site.where} ({site.samples} of {stall.samples} samples)"
        if site.user_frame is not None and site.user_frame.source_line:
            line += f"\n    {site.user_frame.source_line}"
    return line


def render_loop_report_text(report: LoopReport) -> str:
    lines = [repr(report)]
    lines += ["  " + render_stall_text(s).replace("\n", "\n  ") for s in report.stalls]
    lines += [f"  not a stall: {d}" for d in report.delays]
    return "\n".join(lines)


def render_stack_html(stall: Stall) -> str:
    rows = []
    for frame in stall.stack:
        marked = frame == stall.user_frame or frame == stall.sdk_frame
        weight = "font-weight:bold;" if marked else ""
        colour = {"user": "#0550ae", "sdk": "#8250df"}.get(frame.kind, "#57606a")
        rows.append(f"<div style='{weight}color:{colour}'>{html.escape(frame.where)} "
                    f"<span style='color:#57606a'>[{frame.kind}]</span> "
                    f"<code>{html.escape(frame.source_line)}</code></div>")
    return "".join(rows)


def render_stalls_html(stalls: Iterable[Stall]) -> str:
    items = []
    for stall in stalls:
        source = stall.user_frame.source_line if stall.user_frame else ""
        items.append(
            f"<li><b>{stall.duration_ms:.0f} ms</b> at <code>{html.escape(stall.traced_to)}</code>"
            + (f"<br><code>{html.escape(source)}</code>" if source else "")
            + "".join(f"<br>and at <code>{html.escape(site.where)}</code> ({site.samples} of "
                      f"{stall.samples} samples)" for site in stall.sites[1:])
            + f"<details><summary>stack ({len(stall.stack)} frames, {stall.samples} samples)"
            f"</summary><div style='font-family:monospace;font-size:90%'>"
            f"{render_stack_html(stall)}</div></details></li>")
    return f"<ul class='kit-stalls'>{''.join(items)}</ul>" if items else "<p>no stalls</p>"


def render_loop_report_html(report: LoopReport) -> str:
    title = html.escape(repr(report))
    delays = "".join(f"<li>not a stall: {html.escape(str(d))}</li>" for d in report.delays)
    return (f"<div class='kit-loop-report'><p><code>{title}</code> (longest gap between beats "
            f"{report.max_gap_ms:.1f} ms, threshold {report.threshold_ms:g} ms, heartbeat every "
            f"{report.interval_ms:g} ms, stacks sampled by the {html.escape(report.sampled_by)})</p>{render_stalls_html(report.stalls)}"
            + (f"<ul class='kit-delays'>{delays}</ul>" if delays else "") + "</div>")

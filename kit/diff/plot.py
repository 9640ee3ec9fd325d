"""The timeline plot of a DiffReport: one lane per mode, request spans, heartbeats, stalls.

Uses ``matplotlib.figure.Figure`` directly (no pyplot state), so it works under the Agg
backend, in scripts and in notebooks, and never opens a window.
"""

from __future__ import annotations

import base64
import functools
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from kit.diff.report import DiffReport


@functools.lru_cache(maxsize=1)
def _timeline_figure_class() -> type[Figure]:
    from matplotlib.figure import Figure

    class TimelineFigure(Figure):
        """A Figure that displays itself as a PNG wherever it is shown: JupyterLab, nbconvert
        HTML, papermill outputs (no pyplot, no inline backend needed)."""

        def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                    "text/plain": f"<timeline of {len(self.axes[0].get_yticklabels())} modes>"}

    return TimelineFigure


def plot_timeline(report: DiffReport) -> Figure:
    """``report.plot()``: x is milliseconds since each mode's calls began."""
    rows = report.rows
    figure = _timeline_figure_class()(figsize=(10, 0.7 * len(rows) + 1.4), layout="constrained")
    axes = figure.add_subplot()
    labelled: set[str] = set()

    def label(name: str) -> str | None:
        if name in labelled:
            return None
        labelled.add(name)
        return name

    for lane, row in enumerate(reversed(rows)):
        y = lane
        spans = [((ex.started_at - row.run.started_wall) * 1000.0, ex.duration_ms)
                 for ex in row.exchanges]
        if spans:
            axes.broken_barh(spans, (y - 0.3, 0.3), facecolors="#0969da",
                             label=label("request"))
        calls = [((o.start - row.run.started) * 1000.0, o.latency_ms) for o in row.run.outcomes]
        axes.broken_barh(calls, (y + 0.02, 0.2), facecolors="#8c959f",
                         label=label("call"))
        if row.loop is not None:
            beats = [(b - row.run.started) * 1000.0 for b in row.loop.beats]
            axes.plot(beats, [y + 0.32] * len(beats), "|", color="#1a7f37", markersize=5,
                      label=label("heartbeat"))
            stalls = [((s.start - row.run.started) * 1000.0, s.duration_ms) for s in row.stalls]
            if stalls:
                axes.broken_barh(stalls, (y - 0.4, 0.8), facecolors="#cf222e", alpha=0.25,
                                 label=label("stall"))
    axes.set_yticks(range(len(rows)), [r.mode for r in reversed(rows)])
    axes.set_xlabel("ms since the mode's calls began")
    axes.set_title(timeline_title(report), fontsize=10, loc="left")
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    # below the plot, outside the axes: a legend inside would hide the first requests
    figure.legend(unique.values(), unique.keys(), loc="outside lower center", ncols=len(unique),
                  fontsize=8, frameon=False)
    return figure


def timeline_title(report: DiffReport) -> str:
    """``"How each of 6 modes used the event loop: blocking stalled it up to 271 ms (threshold
    20 ms)."`` or ``"… no mode stalled it (threshold 20 ms)."``: a sentence, not a repr."""
    stalled = [r for r in report.rows if r.stalls]
    head = f"How each of {len(report.rows)} modes used the event loop: "
    if not stalled:
        return head + f"no mode stalled it (threshold {report.threshold_ms:g} ms)."
    worst = max(stalled, key=lambda r: r.max_stall_ms)
    others = len(stalled) - 1
    more = f" ({others} other mode{'s' * (others != 1)} stalled too)" if others else ""
    return (head + f"{worst.mode} stalled it up to {worst.max_stall_ms:.0f} ms{more} "
            f"(threshold {report.threshold_ms:g} ms).")

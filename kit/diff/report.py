"""DiffReport: one row per mode (or service variant), compared with the baseline row.

    report = kit.diff(op, target=t)
    report                       # table, verdict, explanations, exchanges (in a notebook)
    report["blocking"].max_stall_ms, report["blocking"].stalls[0].traced_to
    report.to_frame(); report.summary(); report.checks; report.plot()
    print(report); print(report.checks)   # the full plain text (a terminal or a script)
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from kit.checks import Checks
from kit.diff.fingerprint import Fingerprint, fingerprint

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

    from kit.capture import Capture
    from kit.diff.masking import Masks
    from kit.loop.monitor import LoopReport, Stall

OutcomeKind = Literal["value", "raised", "coroutine"]


@dataclass(frozen=True)
class CallOutcome:
    """One call (one copy under concurrency): what it gave and when (perf_counter seconds)."""

    kind: OutcomeKind
    value: Any
    error: BaseException | None
    start: float
    end: float

    @property
    def latency_ms(self) -> float:
        return (self.end - self.start) * 1000.0


@dataclass(frozen=True)
class Write:
    """One write request of a row: ``insert table 'todos' HTTP 201, rolled back``."""

    action: str
    subject: str
    status: int | None
    rolled_back: bool
    renamed: bool = False  # an upload the kit sent under its own kit_ name

    @property
    def failed(self) -> bool:
        """The server refused it (no answer, or 4xx/5xx): one request is one transaction, so
        nothing was written."""
        return self.status is None or self.status >= 400

    def __str__(self) -> str:
        ending = (", failed (nothing written)" if self.failed else
                  ", rolled back" if self.rolled_back else
                  ", committed" if self.action in ("insert", "upsert", "update", "delete", "rpc") else
                  ", under a kit_ name" if self.renamed else "")
        return f"{self.action} {self.subject} HTTP {self.status}{ending}"


@dataclass(frozen=True)
class RowRun:
    """The raw result of running one row in its arena."""

    name: str
    verdict: str
    how: str
    outcomes: list[CallOutcome]
    started_wall: float  # time.time() when the calls began (exchanges use that clock)
    started: float  # perf_counter at the same instant
    ended: float
    loop: LoopReport | None  # None for the sync baseline (no event loop)


class ModeResult:
    """One row of a DiffReport: outcome, fingerprint, stalls, exchanges, flags, explanation."""

    def __init__(self, run: RowRun, exchanges: Capture, baseline: Fingerprint | None,
                 masks: Masks | None = None, removed: list[str] | None = None) -> None:
        self.run = run
        self.mode = run.name
        self.exchanges = exchanges
        self.removed = list(removed or [])  # storage objects the kit created and removed
        self.masks = masks
        failing = [o for o in run.outcomes if o.kind != "value"]
        self.representative = failing[0] if failing else run.outcomes[0]
        self.fingerprint = (fingerprint(self.representative.value, masks)
                            if self.representative.kind == "value" else None)
        self.equal_to_baseline: bool | None = (
            None if baseline is None else (self.fingerprint is not None
                                           and self.fingerprint.digest == baseline.digest))

    # outcome ---------------------------------------------------------------------------------
    @property
    def outcome(self) -> OutcomeKind:
        return self.representative.kind

    @property
    def value(self) -> Any:
        return self.representative.value

    @property
    def error(self) -> BaseException | None:
        return self.representative.error

    @property
    def exception_type(self) -> str:
        return type(self.error).__name__ if self.error is not None else ""

    @property
    def exception_message(self) -> str:
        if self.error is None:
            return ""
        from kit.secrets import mask_text
        return mask_text(str(self.error), self.exchanges.secrets)[:500]

    @property
    def copies(self) -> str:
        """``8× value`` or ``6× value, 2× raised`` under concurrency."""
        counts = Counter(o.kind for o in self.run.outcomes)
        return ", ".join(f"{n}× {kind}" for kind, n in counts.items())

    @property
    def warnings(self) -> list[str]:
        return [o.value.warning for o in self.run.outcomes
                if o.kind == "coroutine" and getattr(o.value, "warning", None)]

    @cached_property
    def writes(self) -> list[Write]:
        """What this row's requests wrote, each with whether the server rolled it back."""
        from kit.diff.writes import intent_of, rolled_back

        found = []
        for ex in self.exchanges:
            intent = intent_of(ex.method, ex.url, ex.request_headers)
            if intent is not None:
                asked = self.masks.apply(intent.subject) if self.masks else intent.subject
                found.append(Write(intent.action, asked, ex.status,
                                   intent.service == "rest" and rolled_back(ex.response_headers),
                                   renamed=asked != intent.subject))
        return found

    @property
    def builder(self) -> str | None:
        """The request builder's class when the operation forgot ``.execute()``."""
        from kit.diff.fingerprint import forgotten_execute
        return forgotten_execute(self.value) if self.outcome == "value" else None

    @property
    def ok(self) -> bool:
        """A value equal to the baseline's (the baseline row: any value)."""
        return self.outcome == "value" and self.equal_to_baseline is not False

    # timing and stalls ----------------------------------------------------------------------
    @property
    def wall_ms(self) -> float:
        return (self.run.ended - self.run.started) * 1000.0

    @property
    def latencies_ms(self) -> list[float]:
        return [o.latency_ms for o in self.run.outcomes]

    @property
    def median_latency_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def loop(self) -> LoopReport | None:
        return self.run.loop

    @property
    def stalls(self) -> list[Stall]:
        return self.run.loop.stalls if self.run.loop else []

    @property
    def max_stall_ms(self) -> float:
        return self.run.loop.max_stall_ms if self.run.loop else 0.0

    @property
    def max_gap_ms(self) -> float:
        """The longest gap between the loop's heartbeats, stall or not (0.0 with no loop)."""
        return self.run.loop.max_gap_ms if self.run.loop else 0.0

    @property
    def threshold_ms(self) -> float | None:
        """The stall threshold the loop was watched with (None for modes run without a loop)."""
        return self.run.loop.threshold_ms if self.run.loop else None

    @property
    def loop_text(self) -> str:
        """``"21.9 ms stall (threshold 20)"``, ``"12.3 ms (under 20)"`` or ``"-"`` (no loop)."""
        if self.threshold_ms is None:
            return "-"
        if self.stalls:
            return f"{self.max_stall_ms:.1f} ms stall (threshold {self.threshold_ms:g})"
        if self.max_gap_ms >= self.threshold_ms:  # a scheduling delay: the machine, not the code
            return f"{self.max_gap_ms:.1f} ms, machine delay (threshold {self.threshold_ms:g})"
        return f"{self.max_gap_ms:.1f} ms (under {self.threshold_ms:g})"

    @property
    def heartbeat_misses(self) -> int:
        return self.run.loop.heartbeat_misses if self.run.loop else 0

    @property
    def traced_to(self) -> list[str]:
        """Distinct stalling lines (each line of each stall), longest stall first."""
        seen: dict[str, None] = {}
        for stall in sorted(self.stalls, key=lambda s: -s.duration_ms):
            for where in stall.traced_to_all:
                seen.setdefault(where, None)
        return list(seen)

    # exchanges --------------------------------------------------------------------------------
    @property
    def statuses(self) -> list[int | None]:
        return [ex.status for ex in self.exchanges]

    @property
    def content_types(self) -> list[str]:
        return sorted({ex.content_type for ex in self.exchanges if ex.content_type})

    @cached_property
    def flags(self) -> list[str]:
        from kit.diff.integration import row_flags
        return row_flags(self)

    @cached_property
    def explanation(self) -> Any:
        """``kit.explain`` of what went wrong in this row (None when it went right)."""
        from kit.diff.integration import explain_row
        return explain_row(self)

    def explain_inputs(self) -> list[Any]:
        """For ``kit.explain(row)``: error, warnings, flagged exchanges, stall facts."""
        from kit.diff.integration import row_explain_inputs
        return row_explain_inputs(self)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "verdict": self.run.verdict, "how": self.run.how,
                "outcome": self.outcome, "copies": self.copies,
                "fingerprint": str(self.fingerprint) if self.fingerprint else None,
                "equal_to_baseline": self.equal_to_baseline,
                "exception_type": self.exception_type, "exception_message": self.exception_message,
                "warnings": self.warnings, "wall_ms": round(self.wall_ms, 1),
                "latencies_ms": [round(x, 1) for x in self.latencies_ms],
                "max_stall_ms": round(self.max_stall_ms, 1), "max_gap_ms": round(self.max_gap_ms, 1),
                "threshold_ms": self.threshold_ms,
                "heartbeat_misses": self.heartbeat_misses, "stalls_traced_to": self.traced_to,
                "stalls": [s.to_dict() for s in self.stalls], "exchanges": len(self.exchanges),
                "statuses": self.statuses, "content_types": self.content_types,
                "flags": self.flags, "explanation": _explanation_text(self.explanation),
                "writes": [str(w) for w in self.writes], "removed": self.removed}

    def __repr__(self) -> str:
        what = (f"{self.exception_type}" if self.outcome == "raised" else
                "coroutine" if self.outcome == "coroutine" else str(self.fingerprint))
        return (f"<ModeResult {self.mode}: {what}, {len(self.exchanges)} exchanges, "
                f"max stall {self.max_stall_ms:.0f} ms>")


class DiffReport:
    """Rows are modes; see the module docstring. ``report[name]`` gives one ModeResult."""

    def __init__(self, runs: list[RowRun], *, capture: Capture, baseline: str, concurrency: int,
                 threshold_ms: float, interval_ms: float, policy: Any = None,
                 removed: dict[str, list[str]] | None = None) -> None:
        from kit.diff.masking import Masks

        self.capture = capture
        self.baseline = baseline
        self.concurrency = concurrency
        self.threshold_ms = threshold_ms
        self.interval_ms = interval_ms
        self.masks = Masks.from_exchanges(capture, renames=policy.renames if policy else None)
        removed = removed or {}
        base_run = next(r for r in runs if r.name == baseline)
        base = ModeResult(base_run, capture.filter(mode=baseline), None, self.masks,
                          removed.get(baseline))
        self._baseline_fp = base.fingerprint
        self.rows = [base if r is base_run else
                     ModeResult(r, capture.filter(mode=r.name), base.fingerprint, self.masks,
                                removed.get(r.name)) for r in runs]

    def __getitem__(self, mode: str) -> ModeResult:
        for row in self.rows:
            if row.mode == mode:
                return row
        from kit.errors import UsageError
        raise UsageError(f"no row {mode!r} in this report",
                         fix=f"use one of: {', '.join(r.mode for r in self.rows)}")

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def modes(self) -> list[str]:
        return [r.mode for r in self.rows]

    @property
    def failed(self) -> list[ModeResult]:
        return [r for r in self.rows if not r.ok]

    @property
    def max_stall_ms(self) -> float:
        return max((r.max_stall_ms for r in self.rows), default=0.0)

    @property
    def verdict(self) -> str:
        from kit.diff.verdict import verdict_sentence
        return verdict_sentence(self)

    @cached_property
    def checks(self) -> Checks:
        from kit.diff.verdict import report_checks
        return report_checks(self)

    def explain_inputs(self) -> list[Any]:
        """For ``kit.explain(report)``: the rows that failed for a reason of their own (the bug
        modes doing what they demonstrate are left out)."""
        from kit.diff.integration import report_explain_inputs
        return report_explain_inputs(self)

    def summary(self) -> dict[str, Any]:
        """A JSON-able dict for reports and scripts (``json.dumps(report.summary())``).

        Keys: ``baseline`` (mode name), ``concurrency`` (calls per mode), ``threshold_ms`` (stall
        threshold), ``verdict`` (the one sentence), ``max_stall_ms`` (longest stall, 0.0 if none),
        ``modes`` (one ``ModeResult.to_dict()`` per row, in order), ``checks``
        (``Checks.to_dict()``) and ``versions`` (supabase-py package versions). For the text a
        person reads use ``print(report)``; ``repr(report)`` is the one-line summary."""
        from kit.diff.integration import sdk_versions
        return {"baseline": self.baseline, "concurrency": self.concurrency,
                "threshold_ms": self.threshold_ms, "verdict": self.verdict,
                "masked": dict(self.masks.fields),
                "max_stall_ms": round(self.max_stall_ms, 1),
                "modes": [r.to_dict() for r in self.rows], "checks": self.checks.to_dict(),
                "versions": sdk_versions()}

    def to_frame(self) -> pandas.DataFrame:
        """One row per mode (pandas is imported here)."""
        import pandas

        columns = ["outcome", "fingerprint", "equal_to_baseline", "exception_type",
                   "exception_message", "wall_ms", "max_stall_ms", "heartbeat_misses",
                   "stalls_traced_to", "exchanges", "statuses", "content_types", "flags",
                   "explanation"]
        records = []
        for row in self.rows:
            data = row.to_dict()
            records.append({"mode": row.mode, **{c: data[c] for c in columns}})
        return pandas.DataFrame(records, columns=["mode", *columns]).set_index("mode")

    def plot(self) -> Figure:
        """A timeline per mode: request spans, heartbeats, stalls (matplotlib, Agg-safe)."""
        from kit.diff.plot import plot_timeline
        return plot_timeline(self)

    def __repr__(self) -> str:
        """``<DiffReport 6 modes, 2 bug modes broke as they demonstrate (await_sync, unawaited),
        checks 9/9 passed, longest stall 25 ms>``: the counts come from ``checks`` and the rows' verdicts, so they agree."""
        return f"<DiffReport {summary_line(self)}>"

    def __str__(self) -> str:
        """The full plain-text rendering (``print(report)``): verdict, table, stall lines."""
        from kit.diff.render import render_report_text
        return render_report_text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from kit.diff.render import render_report_html, render_report_text
        return {"text/plain": render_report_text(self), "text/html": render_report_html(self)}


def summary_line(report: DiffReport) -> str:
    """``"6 modes, 2 bug modes broke as they demonstrate (await_sync, unawaited), checks 9/9
    passed, longest stall 25 ms"``.

    A bug mode (await_sync, unawaited, ...) that went wrong the way it demonstrates is not a
    failure; every other wrong row is grouped by how it went wrong (``failure_signature``), so
    modes that all failed alike read ``"the other 5 failed the same way: APIError 404
    PGRST205"``, never as a difference between sync and async; otherwise ``"2 failed: async with
    TypeError; to_thread with different data"``. With no stall, the longest gap
    between heartbeats is given with the threshold beside it."""
    from kit.diff.integration import as_demonstrated
    from kit.diff.verdict import failure_signature, silent_html_clause

    wrong = report.failed
    expected = [r for r in wrong if r.run.verdict == "bug" and as_demonstrated(r)]
    unexpected = [r for r in wrong if r not in expected]
    parts = [f"{len(report.rows)} modes"]
    checks = report.checks
    if expected:  # named, so "broke" never reads as a failure of the user's call
        how = "broke as they demonstrate" if len(expected) > 1 else "broke as it demonstrates"
        parts.append(f"{len(expected)} bug mode{'s' * (len(expected) != 1)} {how} "
                     f"({', '.join(r.mode for r in expected)})")
    base = report[report.baseline]
    if base.builder:
        parts.append("no request sent (.execute() is never called)")
    elif silent_html_clause(report):
        parts.append("no data compared (HTML pages where data was expected)")
    groups: dict[str, list[ModeResult]] = {}
    for row in unexpected:
        groups.setdefault(failure_signature(row) or "failed", []).append(row)
    differ = groups.pop("different data", [])
    failing = [r for rows in groups.values() for r in rows]
    if len(groups) == 1 and len(failing) > 1 and len(failing) + len(expected) == len(report.rows):
        (how_failed,) = groups
        who = "the other" if expected else "all"
        parts.append(f"{who} {len(failing)} failed the same way: {how_failed}")
    elif groups:
        parts.append(f"{len(failing)} failed: " + "; ".join(
            f"{', '.join(r.mode for r in rows)} with {how_failed}" for how_failed, rows in groups.items()))
    if differ:
        parts.append(f"{len(differ)} return{'s' * (len(differ) == 1)} different data "
                     f"({', '.join(r.mode for r in differ)})")
    parts.append(f"checks {len(checks) - len(checks.failed)}/{len(checks)} passed")
    if any(r.stalls for r in report.rows):
        parts.append(f"longest stall {report.max_stall_ms:.0f} ms")
    else:
        gap = max((r.run.loop.max_gap_ms for r in report.rows if r.run.loop), default=None)
        if gap is not None:
            parts.append(f"no stall: longest loop gap {gap:.1f} ms, "
                         + (f"under {report.threshold_ms:g} ms" if gap < report.threshold_ms else
                            f"over {report.threshold_ms:g} ms while the machine ran something else"))
    return ", ".join(parts)


def _explanation_text(explanation: Any) -> str:
    if explanation is None:
        return ""
    for name in ("title", "summary", "cause"):
        text = getattr(explanation, name, None)
        if isinstance(text, str) and text:
            return text
    return str(explanation)

"""The one-sentence verdict and the named checks of a DiffReport (pure functions of the report)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit.checks import Check, Checks

if TYPE_CHECKING:
    from kit.diff.report import DiffReport, ModeResult
    from kit.loop.monitor import Stall

STALL_SHARE = 0.8  # blocking must stall the loop for at least this share of a call's latency


def _names(rows: list[ModeResult]) -> str:
    names = [r.mode for r in rows]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def sdk_stalls(row: ModeResult) -> list[Stall]:
    """Stalls during which the loop thread was inside a sync SDK call (a sync call on the loop)."""
    return [s for s in row.stalls if s.sync_sdk_call]


def verdict_sentence(report: DiffReport) -> str:
    """``"sync, async, blocking and to_thread return the same data; blocking stalls …"``."""
    base = report[report.baseline]
    if base.builder:
        return (f"the operation returns a {base.builder}, not a response: it never calls "
                ".execute(), so no request was sent; end the operation with .execute().")
    silent = silent_html_clause(report)
    if silent:
        parts = [silent]
    elif base.outcome != "value":
        alike = [r for r in report.rows if failure_signature(r) == failure_signature(base)]
        alike_said = (f"{_names(alike)} all {_what(base, plural=True)} (the same failure in every one)"
                if len(alike) > 1 else f"the baseline {base.mode} {_what(base)}")
        parts = [f"{alike_said}, so no data is compared"]
    else:
        same = [r for r in report.rows if r.outcome == "value" and r.equal_to_baseline is not False]
        differ = [r for r in report.rows if r.outcome == "value" and r.equal_to_baseline is False]
        parts = [f"{_names(same)} return{'s' if len(same) == 1 else ''} the same data"]
        if differ:
            parts.append(f"{_names(differ)} return{'s' if len(differ) == 1 else ''} different data")
    said = {r.mode for r in report.rows if not silent and base.outcome != "value"
            and failure_signature(r) == failure_signature(base)}
    for row in report.rows:
        if (row is not base or silent) and row.outcome != "value" and row.mode not in said:
            parts.append(f"{row.mode} {_what(row)}")
    for row in report.rows:
        stalls = sdk_stalls(row)
        if stalls:
            worst = max(stalls, key=lambda s: s.duration_ms)
            parts.append(f"{row.mode} stalls the event loop up to {worst.duration_ms:.0f} ms at "
                         f"{worst.traced_to}")
    written = writes_sentence(report)
    return "; ".join(parts + ([written] if written else [])) + "."


def writes_sentence(report: DiffReport) -> str:
    """``"the operation writes (insert table 'todos'): 24 writes rolled back, 0 committed"``."""
    writes = [w for row in report.rows for w in row.writes]
    if not writes:
        return ""
    kinds = sorted({f"{w.action} {w.subject}" for w in writes})
    tried = [w for w in writes if w.action in ("insert", "upsert", "update", "delete", "rpc")]
    database = [w for w in tried if not w.failed]
    back = sum(w.rolled_back for w in database)
    parts = [f"the operation writes ({', '.join(kinds[:3])}{', ...' if len(kinds) > 3 else ''})"]
    if len(tried) > len(database):
        parts.append(f"{len(tried) - len(database)} of {len(tried)} database writes failed "
                     "(nothing written)")
    if database:
        parts.append(f"{back} of {len(database)} database writes rolled back"
                     + ("" if back == len(database) else
                        f", {len(database) - back} committed (the server ignored Prefer: tx=rollback)"))
    removed = [name for row in report.rows for name in row.removed]
    renamed = [n for n in removed if n.rpartition("/")[2].startswith("kit_")]
    if renamed:
        parts.append(f"{len(renamed)} objects uploaded under kit_ names and removed")
    if len(removed) > len(renamed):
        parts.append(f"{len(removed) - len(renamed)} objects uploaded under their own names "
                     "(absent before the diff) and removed")
    if report.masks.fields:
        parts.append(f"generated fields masked: {', '.join(report.masks.fields)}")
    return ", ".join(parts)


def silent_html_clause(report: DiffReport) -> str:
    """``"every mode got an HTML page with status 200 where JSON was expected (12 of 12
    exchanges), so no data was compared"`` when that is so, else ``""``.

    The silent case: a proxy, a login wall or the wrong URL answers every request with a
    2xx page; the SDK hands the page over as data, so every mode "returns the same data".
    Rows that sent no request (a coroutine never awaited) do not break the "every"."""
    from kit.flags import HTML_WHERE_BYTES_EXPECTED, HTML_WHERE_JSON_EXPECTED, flags_for

    exchanges = [ex for row in report.rows for ex in row.exchanges]
    if not exchanges:
        return ""
    kinds: set[str] = set()
    for ex in exchanges:
        found = set(flags_for(ex)) & {HTML_WHERE_JSON_EXPECTED, HTML_WHERE_BYTES_EXPECTED}
        if not found:
            return ""
        kinds |= found
    expected = " or ".join(sorted("JSON" if k == HTML_WHERE_JSON_EXPECTED else "bytes" for k in kinds))
    statuses = sorted({ex.status for ex in exchanges if ex.status is not None})
    status = "status " + "/".join(map(str, statuses))
    sent = [r for r in report.rows if len(r.exchanges)]
    who = "every mode" if len(sent) == len(report.rows) else f"every mode that sent a request ({_names(sent)})"
    return (f"{who} got an HTML page with {status} where {expected} was expected "
            f"({len(exchanges)} of {len(exchanges)} exchanges), so no data was compared")


def failure_signature(row: ModeResult) -> str | None:
    """How a row went wrong, comparable across rows: ``"APIError 404 PGRST205"``, ``"TypeError"``,
    ``"different data"``, ``"a coroutine never awaited"``, ``"a SyncFilterRequestBuilder (no
    .execute())"``; None for a row that went right. The status is the row's last 4xx/5xx
    answer; the code is the exception's ``code`` (the service's own code)."""
    if row.outcome == "raised":
        refused = [ex.status for ex in row.exchanges if (ex.status or 0) >= 400]
        status = str(refused[-1]) if refused else ""
        code = str(getattr(row.error, "code", "") or "")
        return " ".join(x for x in (row.exception_type, status, code if code != status else "") if x)
    if row.outcome == "coroutine":
        return "a coroutine never awaited"
    if row.builder:
        return f"a {row.builder} (no .execute())"
    return "different data" if row.equal_to_baseline is False else None


def _what(row: ModeResult, *, plural: bool = False) -> str:
    if row.outcome == "raised":
        return f"raise{'' if plural else 's'} {failure_signature(row)}"
    if row.outcome == "coroutine":
        sent = "no request" if not len(row.exchanges) else f"{len(row.exchanges)} requests"
        return f"returns a coroutine that was never awaited and sent {sent}"
    return "returns a value"


def report_checks(report: DiffReport) -> Checks:
    """Named expectations from the facts about supabase-py (see DESIGN.md)."""
    checks = Checks(scenario="diff")
    base = report[report.baseline]
    checks.add(Check(f"{base.mode} returns a value", base.outcome == "value" and not base.builder,
                     (f"a {base.builder}: .execute() is missing" if base.builder else
                      base.exception_type or str(base.fingerprint or ""))))
    for row in report.rows:
        verdict, name = row.run.verdict, row.mode
        if row is not base and (verdict in ("correct", "variant") or name == "blocking"):
            checks.add(Check(f"{name} equals baseline", bool(row.equal_to_baseline),
                             _equality_detail(row)))
        if name == "await_sync":
            checks.add(Check("await_sync raises TypeError", isinstance(row.error, TypeError),
                             row.exception_type or row.outcome, expected_failure=True))
        if name == "unawaited":
            checks.add(Check("unawaited returns a coroutine and sends no request",
                             row.outcome == "coroutine" and len(row.exchanges) == 0,
                             f"{row.outcome}, {len(row.exchanges)} exchanges",
                             expected_failure=True))
        if name == "blocking" and row.outcome == "value":
            latency = row.median_latency_ms
            frozen = max(row.max_stall_ms, row.loop.max_gap_ms if row.loop else 0.0)
            stalls = sdk_stalls(row)
            # "freezes", not "stalls": the longest gap counts the machine's delays too, which the
            # loop monitor reports apart from stalls (kit.loop.report.LoopReport.delays)
            machine = bool(row.loop and not stalls and row.loop.max_delay_ms >= frozen - 0.5 > 0)
            checks.add(Check(f"blocking freezes the loop ≥ {STALL_SHARE} × call latency",
                             frozen >= STALL_SHARE * latency,
                             f"loop frozen up to {frozen:.0f} ms, call latency {latency:.0f} ms"
                             + (f", at {stalls[0].traced_to}" if stalls else "")
                             + ("; that longest freeze was the machine not running the process "
                                "(a scheduling delay, not a stall)" if machine else ""),
                             figures={"max_stall_ms": round(row.max_stall_ms, 1),
                                      "max_gap_ms": round(frozen, 1),
                                      "call_latency_ms": round(latency, 1)},
                             expected_failure=True))
        if name in ("to_thread", "async") or verdict == "variant":
            stalls = sdk_stalls(row)
            checks.add(Check(f"{name} keeps sync SDK calls off the loop", not stalls,
                             f"{len(stalls)} stalls inside a sync SDK call"
                             + (f", worst at {stalls[0].traced_to}" if stalls else ""),
                             figures=_loop_figures(row)))
    return checks


def _loop_figures(row: ModeResult) -> dict[str, float]:
    """A stall of 0 ms says only "nothing crossed the threshold": the longest gap between
    heartbeats and the threshold go beside it, so a report never shows the loop as idle."""
    figures = {"max_stall_ms": round(row.max_stall_ms, 1)}
    if row.loop is not None:
        figures |= {"max_gap_ms": round(row.loop.max_gap_ms, 1), "threshold_ms": row.loop.threshold_ms}
    return figures


def _equality_detail(row: ModeResult) -> str:
    if row.outcome != "value":
        return f"{row.outcome} {row.exception_type}".strip()
    return f"{row.fingerprint}"

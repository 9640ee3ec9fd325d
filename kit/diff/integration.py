"""Where the diff meets the rest of the kit: flags, explanations, rendered exchanges, versions.

Kept in one place so the report's modules stay pure and the imports stay lazy.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kit.capture import Exchange
    from kit.diff.report import ModeResult

SDK_DISTRIBUTIONS = ("supabase", "postgrest", "storage3", "supabase_auth", "httpx", "httpcore")


def flags_for(x: Any) -> list[str]:
    from kit.flags import flags_for as kit_flags_for
    return kit_flags_for(x)


def row_flags(row: ModeResult) -> list[str]:
    """Flags of a row's exchanges and of its result or error."""
    from kit.flags import UNAWAITED_COROUTINE
    subjects: list[Any] = list(row.exchanges)
    if row.outcome == "value":
        subjects.append(row.value)
    elif row.error is not None:
        subjects.append(row.error)
    found = set(flags_for(subjects))
    if row.outcome == "coroutine":
        found.add(UNAWAITED_COROUTINE)
    return sorted(found)


def row_explain_inputs(row: ModeResult) -> list[Any]:
    """What ``kit.explain`` is given for a row: its error, the never-awaited warning, flagged
    exchanges and result, and (for rows that returned) the longest stall inside an SDK call."""
    inputs: list[Any] = []
    if row.error is not None:
        inputs.append(row.error)
    if row.outcome == "coroutine":
        inputs += row.warnings or [f"coroutine {row.value.qualname} (never awaited)"]
    # an injected latency alone (flag fault_injected on an otherwise fine exchange) is not a failure;
    # the blocking mode's exchanges say "sync call on the loop" (and it stalls) by design: they
    # are the kit's demonstration, never evidence of the user's failure; its error still counts
    inputs += [ex for ex in row.exchanges if row.mode != "blocking"
               and (not ex.ok or set(flags_for(ex)) - {"fault_injected"})]
    if row.outcome == "value" and (flags_for(row.value) or returned_a_builder(row)):
        inputs.append(row.value)
    sdk_stalls = [s for s in row.stalls if s.sync_sdk_call]
    if sdk_stalls and row.outcome == "value":
        worst = max(sdk_stalls, key=lambda s: s.duration_ms)
        # the stall with its samples, and the threshold the monitor stalled on (one threshold)
        inputs += [worst, {"threshold_ms": row.loop.threshold_ms if row.loop else None}]
    return inputs


def as_demonstrated(row: ModeResult) -> bool:
    """A deliberate bug mode doing exactly what it demonstrates (not the user's failure):
    await_sync raising the await TypeError, unawaited giving a coroutine that sent nothing,
    blocking returning the baseline's data while it stalls the loop."""
    if row.mode == "await_sync":
        return row.outcome == "raised" and isinstance(row.error, TypeError) and \
            "can't be used in 'await' expression" in str(row.error)
    if row.mode == "unawaited":
        return row.outcome == "coroutine" and len(row.exchanges) == 0
    if row.mode == "blocking":
        return row.ok and not (set(row_flags(row)) - {"fault_injected"})
    return False


def returned_a_builder(row: ModeResult) -> bool:
    """The operation gave back a request builder: ``.execute()`` was never called."""
    return row.outcome == "value" and type(row.value).__name__.endswith("RequestBuilder")


def failed_for_own_reason(row: ModeResult) -> bool:
    """A row whose failure is the user's to explain: it raised, returned a coroutine or an
    unexecuted builder, differs from the baseline, carries flags, or stalled the loop in a mode
    meant to keep it free."""
    if as_demonstrated(row):
        return False
    if returned_a_builder(row):
        return True
    if row.outcome != "value" or row.equal_to_baseline is False:
        return True
    if set(row_flags(row)) - {"fault_injected"}:
        return True
    return row.mode != "blocking" and row.run.verdict != "baseline" and any(
        s.sync_sdk_call for s in row.stalls)


def report_explain_inputs(report: Any) -> list[Any]:
    """For ``kit.explain(report)``: the inputs of the rows that failed for a reason of their own;
    when none did, the facts that say so (each row's outcome and its exchanges)."""
    own = [row for row in report.rows if failed_for_own_reason(row)]
    if own:
        return own  # each row's own inputs (row_explain_inputs), read with the mode they came from
    rows = [{"mode": r.mode, "outcome": r.outcome, "exception": r.exception_type,
             "exchanges": len(r.exchanges), "max_stall_ms": round(r.max_stall_ms, 1),
             "as_demonstrated": as_demonstrated(r)} for r in report.rows]
    return [{"diff_rows": rows, "threshold_ms": report.threshold_ms}]


def explain_row(row: ModeResult) -> Any:
    """``kit.explain`` of what went wrong in a row; None when nothing did."""
    inputs = row_explain_inputs(row)
    if not inputs:
        return None
    from kit.explain import explain
    return explain(row)


def render_exchange_html(exchange: Exchange) -> str:
    from kit.render import render_exchange
    return render_exchange(exchange)


def explanation_html(explanation: Any) -> str:
    if explanation is None:
        return ""
    bundle = getattr(explanation, "_repr_mimebundle_", None)
    if bundle is not None:
        data = bundle()
        if "text/html" in data:
            return str(data["text/html"])
    import html
    return f"<pre>{html.escape(str(explanation))}</pre>"


@lru_cache(maxsize=1)
def sdk_versions() -> dict[str, str]:
    versions = {}
    for name in SDK_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions

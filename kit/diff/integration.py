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
    # an injected latency alone (flag fault_injected on an otherwise fine exchange) is not a failure
    inputs += [ex for ex in row.exchanges if set(flags_for(ex)) - {"fault_injected"}]
    if row.outcome == "value" and flags_for(row.value):
        inputs.append(row.value)
    sdk_stalls = [s for s in row.stalls if s.sync_sdk_call]
    if sdk_stalls and row.outcome == "value":
        worst = max(sdk_stalls, key=lambda s: s.duration_ms)
        inputs.append(f"event loop stalled {worst.duration_ms:.0f} ms at {worst.traced_to}")
        inputs.append({"max_stall_ms": worst.duration_ms})
    return inputs


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

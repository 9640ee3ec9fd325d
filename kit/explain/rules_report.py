"""The explainer for a diff report in which nothing failed for a reason of its own."""

from __future__ import annotations

from kit.explain.case import Case
from kit.explain.model import NOTEBOOKS, Evidence, Explanation
from kit.explain.registry import register

_DEMONSTRATES = {"await_sync": "raises the await TypeError, as it demonstrates",
                 "unawaited": "returns a coroutine and sends nothing, as it demonstrates",
                 "blocking": "returns the same data while it blocks the loop, as it demonstrates"}


@register("no_failure_of_its_own")
def no_failure_of_its_own(case: Case) -> Explanation | None:
    rows = case.facts.get("diff_rows")
    if not rows or case.exceptions:
        return None
    lines = []
    for row in rows:
        what = (_DEMONSTRATES.get(row["mode"], "behaves as expected") if row["as_demonstrated"]
                else f"{row['outcome']}" + (f" {row['exception']}" if row["exception"] else ""))
        lines.append(f"{row['mode']}: {what}; {row['exchanges']} exchange(s), max stall "
                     f"{row['max_stall_ms']:g} ms")
    return Explanation(
        "no_failure_of_its_own", "Nothing failed for a reason of its own",
        "Every row returned what its way of calling gives: the correct modes agree with the "
        "baseline, and the deliberate bug modes (await_sync, unawaited, blocking) misbehaved "
        "exactly as they demonstrate. No stall in a correct mode reached the threshold of "
        f"{case.facts.get('threshold_ms', 20):g} ms. There is no failure to explain; the rows "
        "below are the evidence.",
        Evidence(tuple(lines)), None, 1.0, NOTEBOOKS["start"])

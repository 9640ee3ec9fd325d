"""Explainers for event-loop stalls, read from the stacks sampled during them
(``kit.explain.stall_reading``), never from the stall's figure alone.

- ``thread_start_on_loop``: the loop waited in ``threading.Thread.start`` (an executor starting
  a worker for ``asyncio.to_thread``/``run_in_executor``): a one-time cost per thread.
- ``event_loop_blocked``: a sync supabase call on the loop's thread, only when an SDK frame was
  sampled (or the diff's ``blocking`` mode made the request); otherwise what the samples show:
  the user's line and the call it blocked in. A stall no sample explains is "not recognised",
  with its facts.

A fix shows the user's own sampled line rewritten (``to_thread_line``), or no code at all.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from kit.explain.calls import call_of
from kit.explain.case import Case
from kit.explain.model import CONFIDENCE, NOTEBOOKS, Evidence, Explanation, Fix
from kit.explain.registry import register
from kit.explain.stall_reading import StallReading, read_stall

if TYPE_CHECKING:
    from kit.capture import Exchange

__all__ = ["event_loop_blocked", "thread_start_on_loop", "to_thread_line"]

_RACE = re.compile(r"race condition", re.IGNORECASE)
_DEFAULT_THRESHOLD_MS = 20.0  # kit.diff's and kit.watch_loop's default
_BLOCKS = ("every other task, heartbeat and timeout waited meanwhile")


def to_thread_line(line: str) -> str | None:
    """The line with its outermost call moved off the loop, in the form ``kit scan --fix`` writes
    (KIT102, ``kit.scan.values.thread_form``): ``res = sb.table("t").select("*").execute()`` →
    ``res = await asyncio.to_thread(lambda: sb.table("t").select("*").execute())`` (the whole
    chain in the thread), ``helper(x)`` → ``await asyncio.to_thread(helper, x)``. None when the
    line is not a whole statement with a call in its value, or already awaits."""
    from kit.scan.fix import rewrite
    from kit.scan.values import thread_form

    text = line.strip()
    if not text or re.search(r"\bawait\b", text):
        return None
    wrapped = f"async def _kit_line():\n    {text}\n"
    try:
        body = ast.parse(wrapped).body[0].body  # type: ignore[attr-defined]
    except SyntaxError:
        return None
    value = getattr(body[0], "value", None) if len(body) == 1 else None
    call = next((n for n in ast.walk(value) if isinstance(n, ast.Call)), None) if value else None
    if call is None or call.end_lineno is None or call.end_col_offset is None:
        return None
    span = (call.lineno, call.col_offset + 1, call.end_lineno, call.end_col_offset + 1)
    edit = "to_thread_lambda" if thread_form(call) == "lambda" else "to_thread"
    code, applied = rewrite(wrapped, {span: edit}, "<line>", to_thread="asyncio.to_thread")
    return code.split("\n", 2)[1].strip() if applied else None


def _worst(case: Case) -> StallReading | None:
    """The longest stall that reached the threshold, read; None when there is none."""
    threshold = case.facts.get("threshold_ms") or _DEFAULT_THRESHOLD_MS
    stalls = [s for s in case.stalls if s.duration_ms >= threshold]
    return read_stall(max(stalls, key=lambda s: s.duration_ms)) if stalls else None


def _figure(case: Case) -> list[str]:
    stall = case.facts.get("max_stall_ms")
    threshold = case.facts.get("threshold_ms") or _DEFAULT_THRESHOLD_MS
    if not isinstance(stall, (int, float)) or not stall:
        return []
    return [f"the event loop stalled for up to {stall:.0f} ms (threshold {threshold:g} ms)"]


def _own_line_fix(reading: StallReading, note: str) -> Fix:
    """The caller's line (the async line that made the blocking call) moved to a thread; no code
    when that line cannot be read or rewritten."""
    frame = reading.caller
    line = frame.source_line if frame is not None else ""
    fixed = to_thread_line(line) if line else None
    return Fix(line, fixed, note) if fixed else Fix("", "", note)


@register("thread_start_on_loop")
def thread_start_on_loop(case: Case) -> Explanation | None:
    reading = _worst(case)
    if reading is None or reading.kind != "thread_start":
        return None
    where = (reading.user_frame.where if reading.user_frame else
             reading.where[0] if reading.where else "the loop's thread")
    own = reading.user_frame.source_line if reading.user_frame else ""
    if reading.executor is None:
        return Explanation(
            "thread_start_on_loop", f"Starting a thread blocked the event loop at {where}",
            "The loop's thread was inside threading.Thread.start, which returns only once the "
            "new thread has run; on a loaded machine the OS may take tens of ms to run it, and "
            f"{_BLOCKS}. No supabase call was on the loop's thread.",
            Evidence((*_figure(case), *reading.lines())),
            Fix("", "", "Start long-lived threads once at startup, before the work you measure, "
                "or raise the stall threshold above this one-time cost."),
            CONFIDENCE["signature"], None)  # no notebook walks through it
    return Explanation(
        "thread_start_on_loop",
        f"The executor started a worker thread on the event loop ({reading.executor}), not a sync call",
        f"{reading.executor} hands the work to a thread pool (the loop's default executor, made at "
        "its first use). When no worker is idle the pool starts a new thread, and "
        "threading.Thread.start waits on the loop's thread until that thread has run: on a loaded "
        f"machine tens of ms, once per new worker ({reading.times()}). The sync work itself ran in "
        "the worker, off the loop: this stall is the pool warming up, not the call you moved.",
        Evidence((*_figure(case), *reading.lines())),
        Fix(own, "# at startup, before the work you measure: make the pool and start its workers\n"
            "import asyncio, threading\n"
            "from concurrent.futures import ThreadPoolExecutor\n\n"
            "async def start_workers(n: int = 4) -> None:\n"
            "    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=n))\n"
            "    ready = threading.Barrier(n)   # each call waits until n workers exist\n"
            "    await asyncio.gather(*(asyncio.to_thread(ready.wait) for _ in range(n)))"
            + (f"\n\n# unchanged:\n{own}" if own else ""),
            "Start the workers before the measured work (a single `await asyncio.to_thread(lambda: "
            "None)` at startup starts one; a pool made and filled at startup, as above, starts "
            "n), or raise the stall threshold for the first call (--kit-stalls=MS, "
            "@pytest.mark.kit_stalls(ms=...)). Keep the to_thread: it is right."),
        CONFIDENCE["signature"], None)  # no notebook walks through it


def _sync_sdk(lines: list[str], reading: StallReading | None, blocking: list[Exchange]) -> Explanation:
    note = ("to_thread keeps the sync client off the loop (the whole call in the lambda: "
            "`.storage` and `table()` build the client's HTTP session on first use); an "
            "AsyncClient (acreate_client) awaits instead.")
    fix = _own_line_fix(reading, note) if reading is not None else Fix("", "", note)
    if not fix.after and blocking and call_of(blocking[0]).known:
        call = call_of(blocking[0]).code()
        fix = Fix(f"res = {call}", to_thread_line(f"res = {call}") or "", note)
    return Explanation(
        "event_loop_blocked", "A sync supabase call blocks the event loop (not a race condition)",
        "A sync supabase call inside `async def` runs on the event loop's thread: every other "
        "task, heartbeat and timeout waits for the whole HTTP request. It is often mistaken for "
        "a race condition; it is not one: data is not corrupted, the loop is frozen. Under load "
        "the stalls pile up and timeouts fire.",
        Evidence(tuple(lines), tuple(blocking[:3])), fix, CONFIDENCE["signature"],
        NOTEBOOKS["storage"])


@register("event_loop_blocked")
def event_loop_blocked(case: Case) -> Explanation | None:
    """Speaks for a stall at or over the threshold the monitor used, from what its samples
    show; for a diff's blocking-mode request; or against a "race condition" claim."""
    reading = _worst(case)
    match = case.find(_RACE)
    blocking = [ex for ex in case.exchanges if ex.mode == "blocking"]
    lines = _figure(case) + (reading.lines() if reading is not None else [])
    if match is not None:
        lines.append(case.line_of(match))
    lines += [f"sync call on the loop thread {ex.thread!r}: {ex.summary()}" for ex in blocking[:3]]
    if reading is not None and reading.kind == "sync_sdk" or blocking:
        return _sync_sdk(lines, reading, blocking)
    if reading is not None and reading.kind in ("code", "sdk_on_loop"):
        return _code_on_loop(reading, lines)
    if match is not None:  # a claim in words, no stall: correct the myth, claim no call
        return Explanation(
            "event_loop_blocked", "Blocking the event loop is not a race condition",
            "A sync call inside `async def` (a sync supabase client's request, time.sleep, "
            "file I/O) runs on the event loop's thread: every other task waits for it. That is "
            "often mistaken for a race condition; it is not one: data is not corrupted, the loop "
            "is frozen. Measure it to see which line: `async with kit.watch_loop() as w: ...`.",
            Evidence(tuple(lines)),
            Fix("", "", "Run the sync call in a thread (await asyncio.to_thread(...)) or use "
                "the AsyncClient (acreate_client) and await it."),
            CONFIDENCE["weak"], NOTEBOOKS["storage"])
    return None  # unsampled, or the kit's own: "not recognised", with the figure and the place


def _code_on_loop(reading: StallReading, lines: list[str]) -> Explanation:
    where = reading.user_frame.where if reading.user_frame else reading.where[0]
    inner = (f", inside {reading.inner.where}" if reading.inner is not None
             and reading.inner != reading.user_frame else "")
    how = ("computing (it used the CPU most of the time it could run)" if reading.computing else
           "waiting in a blocking call (a sleep, I/O or a lock: little CPU time)"
           if reading.cpu_ms is not None else "running the code sampled")
    if (reading.runqueue_ms or 0.0) >= 0.5 * reading.duration_ms:
        how = (f"but for {reading.runqueue_ms:.0f} ms of it the thread only waited for a CPU: a "
               "busy machine, more than the line, made this stall")
    sdk = (f" The SDK frame sampled ({reading.sdk_frame.where}) is async code: an AsyncClient's "
           "work that did not yield, not a sync client's call." if reading.kind == "sdk_on_loop"
           and reading.sdk_frame is not None else " No supabase SDK frame was sampled: this is "
           "not a sync supabase call.")
    return Explanation(
        "event_loop_blocked", f"Synchronous code blocks the event loop at {where}",
        f"The loop's thread spent {reading.duration_ms:.0f} ms at {where}{inner}, "
        f"{how}; {_BLOCKS}.{sdk} The evidence lists the sampled lines.",
        Evidence(tuple(lines)),
        _own_line_fix(reading, "Move the blocking work off the loop (asyncio.to_thread for a "
                      "blocking call, a process pool for long computing) or use an async "
                      "equivalent (asyncio.sleep for time.sleep, an async client for I/O)."),
        CONFIDENCE["shape"], NOTEBOOKS["storage"])

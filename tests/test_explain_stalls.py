"""kit.explain(stall) reads the stacks sampled during the stall: a worker thread starting under
to_thread, the user's own blocking line, a sync supabase call (test_explain_diff), or nothing
known. Each stall here is a real one, caught by kit.watch_loop on a real loop."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from thread_start_hold import hold_thread_start

import kit
from kit.explain.rules_stall import to_thread_line
from kit.loop import FrameInfo, Stall, StallSite


def _nap() -> None:
    time.sleep(0.08)


async def _handler() -> None:
    _nap()   # a sync helper called from async code: the line the fix moves to a thread


async def test_a_worker_thread_starting_under_to_thread_is_named_as_such() -> None:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))  # brand-new: no worker yet
    async with kit.watch_loop(threshold_ms=20) as watch:
        hold_thread_start(threading.get_ident(), ms=60)
        await asyncio.to_thread(lambda: None)
    assert watch.stalls, watch.report
    why = kit.explain(watch)
    assert why.explainer == "thread_start_on_loop", why
    assert why.title.startswith("The executor started a worker thread on the event loop "
                                "(asyncio.to_thread)")
    text = str(why)
    assert "sync supabase call" not in text and "download(" not in text
    assert "the samples show threading.Thread.start under asyncio.to_thread" in why.evidence.lines
    assert any(line.startswith("innermost frame sampled: threading.py:") for line in why.evidence.lines)
    assert why.fix is not None and why.fix.before == "await asyncio.to_thread(lambda: None)"
    assert "set_default_executor(ThreadPoolExecutor(max_workers=n))" in why.fix.after
    assert why.fix.after.endswith("# unchanged:\nawait asyncio.to_thread(lambda: None)")
    # the same stall given alone (as the pytest plugin gives it) reads the same
    assert kit.explain([*watch.stalls, {"threshold_ms": 20}]).explainer == "thread_start_on_loop"


async def test_a_thread_the_code_starts_itself_on_the_loop() -> None:
    worker = threading.Thread(target=lambda: None)
    async with kit.watch_loop(threshold_ms=20) as watch:
        hold_thread_start(threading.get_ident(), ms=60)
        worker.start()
    worker.join()
    why = kit.explain(watch)
    assert why.explainer == "thread_start_on_loop"
    assert why.title.startswith("Starting a thread blocked the event loop at ")
    assert "No supabase call was on the loop's thread" in why.cause
    assert "the samples show threading.Thread.start under user code" in why.evidence.lines


async def test_the_users_own_blocking_line_without_any_sdk_frame() -> None:
    async with kit.watch_loop(threshold_ms=20) as watch:
        await _handler()
    why = kit.explain(watch)
    assert why.explainer == "event_loop_blocked"
    assert why.title.startswith("Synchronous code blocks the event loop at "
                                "tests/test_explain_stalls.py:")
    assert "No supabase SDK frame was sampled: this is not a sync supabase call." in why.cause
    assert "sync supabase call inside" not in why.cause
    assert why.fix is not None and (why.fix.before, why.fix.after) == (
        "_nap()   # a sync helper called from async code: the line the fix moves to a thread",
        ("await asyncio.to_thread(_nap)   # a sync helper called from async code: the line the "
         "fix moves to a thread"))


def test_a_stall_no_sample_fell_in_is_not_recognised_and_shows_its_facts() -> None:
    unsampled = Stall(start=1.0, end=1.25, stack=(), user_frame=None, sdk_frame=None, samples=0)
    why = kit.explain([unsampled, {"threshold_ms": 20}])
    assert why.explainer == "not_recognised"
    assert "max_stall_ms: 250.0" in why.evidence.lines
    assert "stalled_at: (not sampled: no sample fell inside it)" in why.evidence.lines


@pytest.mark.parametrize(("line", "fixed"), [
    ('res = sb.table("orders").select("*").order("id").execute()',
     'res = await asyncio.to_thread(lambda: sb.table("orders").select("*").order("id").execute())'),
    ("return self.client.storage.from_(self.bucket).download(name)",
     "return await asyncio.to_thread(lambda: self.client.storage.from_(self.bucket).download(name))"),
    ('rows = sb.rpc("totals", {"day": d}).execute().data',
     'rows = (await asyncio.to_thread(lambda: sb.rpc("totals", {"day": d}).execute())).data'),
    ("c = fetch_customer(email)", "c = await asyncio.to_thread(fetch_customer, email)"),
    ("time.sleep(0.6)", "await asyncio.to_thread(time.sleep, 0.6)"),
    ("await asyncio.to_thread(lambda: sb.table('o').select('*').execute())", None),  # already off
    ("for row in sb.table('o').select('*').execute().data:", None),  # not a whole statement
    ("total += 1", None),  # no call to move
])
def test_the_fix_rewrites_the_users_own_line(line: str, fixed: str | None) -> None:
    assert to_thread_line(line) == fixed


def _frame(path: str, line: int, function: str, kind: str, is_async: bool = False) -> FrameInfo:
    return FrameInfo(path, line, function, kind, is_async)  # type: ignore[arg-type]


_LOOP = _frame("/usr/lib/python3.11/asyncio/base_events.py", 1922, "_run_once", "stdlib")
_APP = _frame("/app/handlers.py", 12, "handler", "user", is_async=True)


@pytest.mark.parametrize(("below", "cpu_ms", "runqueue_ms", "explainer", "says"), [
    ((_frame("/venv/site-packages/supabase/_async/client.py", 396, "create_client", "sdk", True),
      _frame("/usr/lib/python3.11/ssl.py", 770, "create_default_context", "stdlib")),
     40.0, 2.0, "event_loop_blocked", "is async code: an AsyncClient's work that did not yield"),
    ((_frame("/app/reports.py", 30, "totals", "user"),), 44.0, 1.0, "event_loop_blocked",
     "computing (it used the CPU most of the time it could run)"),
    ((_frame("/app/reports.py", 30, "totals", "user"),), 1.0, 40.0, "event_loop_blocked",
     "but for 40 ms of it the thread only waited for a CPU"),
    ((_frame("/repo/kit/loop/watch.py", 90, "__aenter__", "kit"),), 1.0, 1.0, "not_recognised", ""),
])
def test_what_the_sampled_frames_below_the_users_line_say(below: tuple[FrameInfo, ...],
                                                          cpu_ms: float, runqueue_ms: float,
                                                          explainer: str, says: str) -> None:
    stack = (_LOOP, _APP, *below)
    user = [f for f in stack if f.kind == "user"][-1]
    sdk = next((f for f in below if f.kind == "sdk"), None)
    stall = Stall(1.0, 1.045, stack, user, sdk, 3, (StallSite(user, sdk, 3, stack),), cpu_ms,
                  runqueue_ms)
    why = kit.explain([stall, {"threshold_ms": 20}])
    assert why.explainer == explainer and says in why.cause
    assert "sync supabase call inside" not in why.cause

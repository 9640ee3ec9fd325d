"""The loop monitor: stalls detected and traced to the right line, clean start and stop."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import selectors
import threading
import time

import httpx
import pytest

import kit
from kit.loop import LoopMonitor, classify, watch_loop
from kit.loop.frames import FrameInfo, common_prefix, first_sdk_frame, last_user_frame

BLOCK_S = 0.3  # far above the 20 ms threshold, so detection survives a heavily loaded machine


def block_the_loop() -> None:
    time.sleep(BLOCK_S)  # the line a stall must be traced to


BLOCK_LINE = inspect.getsourcelines(block_the_loop)[1] + 1


async def test_async_with_traces_a_stall_to_the_blocking_line() -> None:
    async with watch_loop() as w:
        await asyncio.sleep(0.01)
        block_the_loop()
        await asyncio.sleep(0.01)
    assert w.report is not None
    stall = max(w.stalls, key=lambda s: s.duration_ms)
    assert stall.user_frame is not None
    assert (os.path.basename(stall.user_frame.filename), stall.user_frame.lineno,
            stall.user_frame.function) == ("test_loop.py", BLOCK_LINE, "block_the_loop")
    assert stall.sdk_frame is None
    assert stall.samples >= 1
    assert stall.duration_ms >= BLOCK_S * 1000
    assert w.report.heartbeat_misses >= 1
    assert "block_the_loop" in stall.traced_to and "time.sleep(BLOCK_S)" in stall.user_frame.source_line
    json.dumps(w.report.to_dict())


async def test_the_watchdog_stops_and_unschedules_its_heartbeat() -> None:
    before = {t.name for t in threading.enumerate()}
    async with watch_loop() as w:
        assert any(t.name == "kit-loop-watchdog" for t in threading.enumerate())
    assert w._monitor is None
    assert {t.name for t in threading.enumerate()} - before == set()
    loop = asyncio.get_running_loop()
    assert not [h for h in loop._scheduled if not h.cancelled()  # type: ignore[attr-defined]
                and getattr(h._callback, "__qualname__", "").startswith("LoopMonitor")]


def inner_a() -> None:
    time.sleep(0.2)


def inner_b() -> None:
    time.sleep(0.2)


def outer() -> None:
    inner_a()
    inner_b()


async def test_a_stall_over_two_calls_lists_each_stalling_line() -> None:
    async with watch_loop(threshold_ms=20) as w:
        outer()  # two different calls stall in turn: each is a line of its own
        await asyncio.sleep(0.01)
    stall = max(w.stalls, key=lambda s: s.duration_ms)
    assert stall.samples >= 2
    lines = {(site.user_frame.function, site.user_frame.source_line)
             for site in stall.sites if site.user_frame}
    # the deepest frames, never the shared caller (a starved watchdog may miss one of the two)
    assert lines and lines <= {("inner_a", "time.sleep(0.2)"), ("inner_b", "time.sleep(0.2)")}
    assert stall.user_frame is not None and stall.user_frame.function in {"inner_a", "inner_b"}
    if len(lines) == 2:
        assert len(stall.traced_to_all) == 2 and "more lines" in repr(stall)
        assert "and at " in str(w.report)


def test_distinct_stalling_lines_most_sampled_first() -> None:
    from kit.loop.evidence import stall_sites

    caller = FrameInfo("app.py", 10, "handler", "user")
    first = FrameInfo("app.py", 20, "load", "user")
    second = FrameInfo("app.py", 30, "save", "user")
    sdk = FrameInfo("/v/site-packages/storage3/_sync/file_api.py", 141, "download", "sdk")
    samples = [(caller, first, sdk), (caller, second), (caller, second), (caller, first, sdk)]
    sites = stall_sites(samples + [(caller, second)])
    assert [(s.user_frame, s.sdk_frame, s.samples) for s in sites] == [(second, None, 3),
                                                                       (first, sdk, 2)]
    assert sites[1].where == "app.py:20 load → storage3/_sync/file_api.py:141 download"


def test_sync_with_outside_a_loop_is_a_usage_error() -> None:
    with pytest.raises(kit.UsageError, match="no event loop to watch.*async with kit.watch_loop"), \
            watch_loop():
        pass


async def test_sync_with_on_the_running_loop_reports_the_blocked_body() -> None:
    # A plain Jupyter cell: sync code on the kernel's running loop; the whole body is one stall.
    with watch_loop() as w:
        block_the_loop()
    assert [s.user_frame.lineno for s in w.stalls if s.user_frame] == [BLOCK_LINE]


def test_sync_with_watches_a_given_loop() -> None:
    loop = asyncio.new_event_loop()

    async def main() -> None:
        await asyncio.sleep(0.01)
        block_the_loop()
        await asyncio.sleep(0.01)
    try:
        with watch_loop(loop) as w:
            loop.run_until_complete(main())
    finally:
        loop.close()
    assert any(s.user_frame and s.user_frame.lineno == BLOCK_LINE for s in w.stalls)


async def test_async_with_rejects_a_loop_that_is_not_running() -> None:
    other = asyncio.new_event_loop()
    try:
        with pytest.raises(kit.UsageError, match="not the running one"):
            async with watch_loop(other):
                pass
    finally:
        other.close()


async def test_decorator_on_async_and_sync_functions() -> None:
    @watch_loop()
    async def handler() -> str:
        block_the_loop()
        await asyncio.sleep(0.01)
        return "done"

    @watch_loop()
    def sync_step() -> int:
        block_the_loop()
        return 7

    assert await handler() == "done"
    assert await asyncio.to_thread(_expect_usage_error, sync_step)
    assert sync_step() == 7  # on this running loop
    for func in (handler, sync_step):
        report = func.watch.report  # type: ignore[attr-defined]
        assert report is not None
        assert any(s.user_frame and s.user_frame.lineno == BLOCK_LINE for s in report.stalls)


def _expect_usage_error(func: object) -> bool:
    with pytest.raises(kit.UsageError):
        func()  # type: ignore[operator]
    return True


async def test_a_watch_is_not_reentrant() -> None:
    w = watch_loop()
    async with w:
        with pytest.raises(kit.UsageError, match="already active"):
            async with w:
                pass


async def test_stalls_are_capped_so_a_kernel_is_never_flooded() -> None:
    monitor = LoopMonitor(asyncio.get_running_loop(), max_stalls=2, max_samples=1).start()
    for _ in range(4):
        time.sleep(0.05)  # noqa: ASYNC251 - blocking the loop on purpose
        await asyncio.sleep(0.015)
    report = monitor.stop()
    assert len(report.stalls) == 2
    assert report.dropped_stalls >= 1
    assert all(s.samples <= 1 for s in report.stalls)


def test_bad_thresholds_are_usage_errors() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(kit.UsageError, match="threshold_ms=0"):
            LoopMonitor(loop, threshold_ms=0)
    finally:
        loop.close()


def test_frame_kinds() -> None:
    assert classify(httpx.__file__) == "sdk"
    assert classify(asyncio.__file__) == "stdlib"
    assert classify(kit.loop.monitor.__file__) == "kit"
    assert classify(os.path.join(os.path.dirname(kit.__file__), "scenarios", "x.py")) == "user"
    assert classify(__file__) == "user"
    assert classify(pytest.__file__) == "library"


def test_frame_selection_is_pure() -> None:
    user = FrameInfo("app.py", 3, "handler", "user")
    sdk_outer = FrameInfo("/v/site-packages/storage3/_sync/file_api.py", 10, "download", "sdk")
    sdk_inner = FrameInfo("/v/site-packages/httpcore/_sync/x.py", 99, "read", "sdk")
    loop_frame = FrameInfo("asyncio/events.py", 80, "_run", "stdlib")
    stack = (loop_frame, user, sdk_outer, sdk_inner)
    assert last_user_frame(stack) == user
    assert first_sdk_frame(stack, after=user) == sdk_outer
    assert sdk_outer.short_path == "storage3/_sync/file_api.py"
    assert common_prefix([stack, stack[:2] + (sdk_inner,)]) == stack[:2]
    assert common_prefix([]) == ()


async def test_report_displays_itself() -> None:
    async with watch_loop() as w:
        block_the_loop()
        await asyncio.sleep(0.01)
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"].startswith("<LoopReport ")
    assert "block_the_loop" in bundle["text/html"] and "<details>" in bundle["text/html"]
    assert repr(w).startswith("<LoopWatch threshold 20 ms: <LoopReport ")


def test_stall_descriptions() -> None:
    from kit.loop import Stall

    select = FrameInfo(selectors.__file__, 468, "select", "stdlib")
    user = FrameInfo("app.py", 42, "download_image", "user")
    sdk = FrameInfo("/v/site-packages/storage3/_sync/file_api.py", 141, "download", "sdk")
    assert Stall(0.0, 0.03, (), None, None, 0).traced_to.startswith("(not sampled")
    assert Stall(0.0, 0.03, (select,), None, None, 2).traced_to == (
        "(no user or SDK code: loop thread in selectors.py:468 select)")
    stall = Stall(0.0, 0.2125, (user, sdk), user, sdk, 9)
    assert stall.traced_to == "app.py:42 download_image → storage3/_sync/file_api.py:141 download"
    assert stall.sync_sdk_call and repr(stall) == f"<Stall 212 ms at {stall.traced_to}>"


def _frames(*where: tuple[str, str, str]) -> tuple[FrameInfo, ...]:
    return tuple(FrameInfo(path, 1, function, kind) for path, function, kind in where)


def test_a_sample_in_the_selector_wait_is_the_loop_waiting() -> None:
    from kit.loop.evidence import loop_is_waiting

    base = asyncio.base_events.__file__
    events = asyncio.events.__file__
    loop_top = (("app.py", "<module>", "user"), (base, "run_forever", "stdlib"),
                (base, "_run_once", "stdlib"))
    assert loop_is_waiting(_frames(*loop_top, (selectors.__file__, "select", "stdlib")))
    assert not loop_is_waiting(_frames(*loop_top, (events, "_run", "stdlib"),
                                       ("app.py", "handler", "user")))
    assert not loop_is_waiting(_frames(("app.py", "handler", "user")))  # no loop frame: unknown


def test_a_gap_is_judged_on_cpu_samples_and_run_queue() -> None:
    from kit.loop.evidence import judge_gap

    def judge(**kw: float) -> str:
        facts = {"gap_s": 0.1, "threshold_s": 0.02, "running_samples": 0, "waiting_samples": 0,
                 "cpu_s": 0.0, "runqueue_s": 0.0, "watchdog_late_s": 0.0} | kw
        return judge_gap(**facts)  # type: ignore[arg-type]
    assert judge(running_samples=3) == "stall"                       # blocked in a sync call
    assert judge(cpu_s=0.09) == "stall"                              # computing, even unsampled
    assert judge(waiting_samples=2) == "descheduled"                 # idle in the selector
    assert judge(running_samples=1, runqueue_s=0.09) == "descheduled"  # preempted, not blocked
    assert judge(watchdog_late_s=0.09) == "descheduled"              # nobody looked: watchdog late
    assert judge(running_samples=1, watchdog_late_s=0.09) == "stall"  # the sample shows the block
    assert judge() == "stall"                                        # unexplained: a stall, not sampled
    assert judge(gap_s=0.021, runqueue_s=None, cpu_s=None, running_samples=1) == "stall"


def test_a_gap_is_judged_on_the_loops_busy_time_when_its_selector_wait_is_known() -> None:
    from kit.loop.evidence import judge_gap

    def judge(**kw: float) -> str:
        facts = {"gap_s": 0.1, "threshold_s": 0.02, "running_samples": 1, "waiting_samples": 0,
                 "cpu_s": 0.0, "runqueue_s": 0.0, "watchdog_late_s": 0.0, "idle_s": 0.0} | kw
        return judge_gap(**facts)  # type: ignore[arg-type]
    assert judge() == "stall"                                          # blocked the whole gap
    assert judge(idle_s=0.09) == "descheduled"                         # idle but 10 ms: no stall
    assert judge(idle_s=0.09, running_samples=0, waiting_samples=0, cpu_s=None) == "descheduled"
    assert judge(running_samples=0) == "stall"                         # busy, even unsampled
    assert judge(runqueue_s=0.09, cpu_s=0.01) == "descheduled"         # preempted mid-callback
    assert judge(idle_s=0.05, runqueue_s=0.04) == "stall"             # 50 ms busy, blocked
    assert judge(idle_s=0.05, runqueue_s=0.04, blocked_switches=0) == "descheduled"  # never blocked
    # a blocking call whose sleep went on while the thread queued for a CPU: still a stall...
    assert judge(gap_s=0.022, runqueue_s=0.006) == "stall"
    # ...but only with a sample that shows the loop running something
    assert judge(gap_s=0.022, runqueue_s=0.006, running_samples=0, waiting_samples=1) == "descheduled"


def test_the_loop_threads_clock_reads_cpu_and_run_queue() -> None:
    from kit.loop.evidence import ThreadClock

    clock = ThreadClock.for_current_thread()
    try:
        before = clock.read()
        sum(range(2_000_000))
        after = clock.read()
    finally:
        clock.close()
    assert before is not None and after is not None and after.cpu_s > before.cpu_s
    if os.path.exists(f"/proc/self/task/{threading.get_native_id()}/schedstat"):
        assert after.runqueue_s is not None and after.runqueue_s >= before.runqueue_s


STOPPED_CHILD = """
import asyncio, json, os, sys
from kit.loop import watch_loop
async def main():
    async with watch_loop() as w:
        print("ready", flush=True)
        while not os.path.exists(sys.argv[1]):  # until the test has stopped and resumed it
            await asyncio.sleep(0.025)
    print(json.dumps(w.report.to_dict()), flush=True)
asyncio.run(main())
"""


def test_a_process_that_is_not_run_is_a_scheduling_delay_not_a_stall(tmp_path) -> None:
    # SIGSTOP freezes the whole process, as a loaded machine does: the loop only awaited sleeps.
    import signal
    import subprocess
    import sys

    done = tmp_path / "done"
    child = subprocess.Popen([sys.executable, "-c", STOPPED_CHILD, str(done)], stdout=subprocess.PIPE,
                             text=True, cwd=os.path.dirname(os.path.dirname(kit.__file__)))
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        child.send_signal(signal.SIGSTOP)
        time.sleep(0.3)
        child.send_signal(signal.SIGCONT)
        time.sleep(0.2)
        done.touch()
        report = json.loads(child.stdout.readline())
    finally:
        done.touch()
        child.wait(timeout=30)
    assert report["stalls"] == [], report
    assert report["max_delay_ms"] >= 250
    assert report["max_gap_ms"] >= 250 and report["threshold_ms"] == 20
    assert "did not run" not in json.dumps(report["stalls"])


async def test_a_stall_inside_a_kit_operation_shows_the_operation_text() -> None:
    blocking = kit.operation("c.sleep(seconds)", seconds=BLOCK_S * 2)  # c is the time module here
    async with watch_loop() as w:
        await asyncio.sleep(0.01)
        blocking(time)
        await asyncio.sleep(0.01)
    stall = max(w.stalls, key=lambda s: s.duration_ms)
    assert stall.user_frame is not None
    assert stall.user_frame.filename.startswith("<kit operation ")
    assert stall.user_frame.source_line == "c.sleep(seconds)"
    assert "c.sleep(seconds)" in str(w.report)


def test_a_failing_kit_operation_shows_its_text_in_the_traceback() -> None:
    import traceback

    first, second = kit.operation("c.upper()"), kit.operation("c.no_such_method()")
    assert first("x") == "X"
    with pytest.raises(AttributeError) as failure:
        second("x")
    assert traceback.extract_tb(failure.value.__traceback__)[-1].line == "c.no_such_method()"

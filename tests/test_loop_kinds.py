"""Stalls of every kind traced to their line, by each sampler: the POSIX timer's real-time signal
(``"rt-timer"``), SIGALRM (``"alarm"``) and the watchdog thread.

The child process holds SIGALRM as pytest-timeout's ``signal`` method does (the rt-timer runs
anyway), then every real-time signal (the kit falls back to SIGALRM, given back meanwhile).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kit

CHILD = r'''
import asyncio, json, re, signal, socket, sys, threading, time
from kit.loop import LoopMonitor

BLOCK_S = 0.3  # far above the 20 ms threshold

def sleeps():
    time.sleep(BLOCK_S)  # BLOCK:sleep

def computes():
    end = time.perf_counter() + BLOCK_S
    while time.perf_counter() < end: pass  # BLOCK:python

def c_call_holding_the_gil():
    return sum(range(8_000_000))  # BLOCK:c_call

def receives():
    a, b = socket.socketpair()
    threading.Timer(BLOCK_S, b.send, (b"x",)).start()
    try:
        return a.recv(1)  # BLOCK:recv
    finally:
        a.close(); b.close()

def waits_for_a_lock():
    lock = threading.Lock(); lock.acquire()
    threading.Timer(BLOCK_S, lock.release).start()
    lock.acquire()  # BLOCK:lock

KINDS = {"sleep": sleeps, "python": computes, "c_call": c_call_holding_the_gil,
         "recv": receives, "lock": waits_for_a_lock}

async def trace(block):
    monitor = LoopMonitor(asyncio.get_running_loop()).start()
    await asyncio.sleep(0.01)
    block()
    await asyncio.sleep(0.01)
    report = monitor.stop()
    longest = max(report.stalls, key=lambda s: s.duration_ms)
    return {"sampled_by": report.sampled_by,
            "traced": [longest.user_frame.lineno, longest.user_frame.function],
            "sites": [[site.where, site.samples] for site in longest.sites]}

async def users_handler_is_kept():
    fired = []
    signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    first = await trace(sleeps)
    kept = signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    # a handler and timer the user sets while the monitor runs are left alone as well
    monitor = LoopMonitor(asyncio.get_running_loop()).start()
    signal.signal(signal.SIGALRM, lambda *a: fired.append(2))
    await asyncio.sleep(0.05)  # the kit's ticks stop before they reach the user's handler
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    for _ in range(40):
        await asyncio.sleep(0.005)
    sleeps()  # the watchdog took over: still traced
    await asyncio.sleep(0.01)
    report = monitor.stop()
    then = [site.user_frame.function for stall in report.stalls for site in stall.sites
            if site.user_frame]
    return {"first": first["sampled_by"], "kept": kept, "fired": fired,
            "then": report.sampled_by, "then_traced": "sleeps" in then}

def handled_rt_signals():
    return [s for s in range(signal.SIGRTMIN, signal.SIGRTMAX + 1)
            if signal.getsignal(s) is not signal.SIG_DFL]

def timeout_handler(signum, frame):
    raise TimeoutError("the user's timeout")

async def main():
    # pytest-timeout's signal method, as pytest_timeout.pytest_timeout_set_timer arms it
    signal.signal(signal.SIGALRM, timeout_handler)
    signal.setitimer(signal.ITIMER_REAL, 300)
    out = {"rt-timer": {kind: await trace(block) for kind, block in KINDS.items()}}
    remaining, interval = signal.getitimer(signal.ITIMER_REAL)
    out["rt_after"] = [signal.getsignal(signal.SIGALRM) is timeout_handler,
                       0 < remaining < 300 and interval == 0.0, handled_rt_signals()]
    signal.setitimer(signal.ITIMER_REAL, 0)  # and its cancel()
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    for s in range(signal.SIGRTMIN, signal.SIGRTMAX + 1):  # every real-time signal the user's
        signal.signal(s, lambda *a: None)
    out["alarm"] = {kind: await trace(block) for kind, block in KINDS.items()}
    out["after"] = [signal.getsignal(signal.SIGALRM) is signal.SIG_DFL,
                    signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)]
    out["user"] = await users_handler_is_kept()
    print(json.dumps(out))

asyncio.run(main())
'''


def _marked_lines(source: str) -> dict[str, int]:
    return {m.group(1): source[:m.start()].count("\n") + 1
            for m in re.finditer(r"# BLOCK:(\w+)", source)}


@pytest.fixture(scope="module")
def child_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    script = tmp_path_factory.mktemp("kinds") / "kinds.py"
    script.write_text(CHILD)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         cwd=Path(kit.__file__).parents[1],
                         env=os.environ | {"PYTHONPATH": str(Path(kit.__file__).parents[1])})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


FUNCTIONS = {"sleep": "sleeps", "python": "computes", "c_call": "c_call_holding_the_gil",
             "recv": "receives", "lock": "waits_for_a_lock"}


@pytest.mark.parametrize("sampler", ["rt-timer", "alarm"])
@pytest.mark.parametrize("kind", sorted(FUNCTIONS))
def test_each_signal_sampler_traces_each_kind_of_block_to_its_line(child_report: dict, kind: str,
                                                                   sampler: str) -> None:
    report = child_report[sampler][kind]
    assert (report["sampled_by"], report["traced"]) == \
        (sampler, [_marked_lines(CHILD)[kind], FUNCTIONS[kind]]), report


def test_the_rt_timer_leaves_pytest_timeouts_sigalrm_alone_and_gives_its_signal_back(
        child_report: dict) -> None:
    # the user's handler, the user's timer still counting down once, no real-time handler left
    assert child_report["rt_after"] == [True, True, []]


def test_the_alarm_sampler_gives_sigalrm_back(child_report: dict) -> None:
    assert child_report["after"] == [True, True]  # SIG_DFL again, no timer left armed


def test_a_users_sigalrm_handler_and_timer_are_never_taken(child_report: dict) -> None:
    user = child_report["user"]
    assert user["first"] == "watchdog"   # the user's handler was there first: not replaced
    assert user["kept"]
    # the timer set during a watch fired, not re-armed away (a tick of the kit's may land in the
    # few microseconds before the loop's next wait sees the user's handler: one, at most)
    assert set(user["fired"]) == {2} and len(user["fired"]) <= 2
    assert user["then"].startswith("alarm, then watchdog") and user["then_traced"]


KINDS_HERE = {
    "sleep": "import time\n\ndef block():\n    time.sleep(0.3)  # BLOCK:sleep\n",
    # (not a C call holding the GIL: the watchdog needs the GIL to sample; the alarm does not)
    "python": "import time\n\ndef block():\n    end = time.perf_counter() + 0.3\n"
              "    while time.perf_counter() < end: pass  # BLOCK:python\n",
}


@pytest.mark.parametrize("kind", sorted(KINDS_HERE))
async def test_the_watchdog_traces_a_block_where_every_tick_signal_is_taken(kind: str,
                                                                          tmp_path: Path) -> None:
    import asyncio
    import importlib.util

    from kit.loop import LoopMonitor

    path = tmp_path / f"app_{kind}.py"
    path.write_text(KINDS_HERE[kind])
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import signal
    # the user's handlers on SIGALRM (unless pytest-timeout's is there) and every real-time signal
    free = [s for s in (signal.SIGALRM, *range(signal.SIGRTMIN, signal.SIGRTMAX + 1))
            if signal.getsignal(s) is signal.SIG_DFL]
    for signum in free:
        signal.signal(signum, lambda *a: None)
    try:
        monitor = LoopMonitor(asyncio.get_running_loop()).start()
        await asyncio.sleep(0.01)
        module.block()
        await asyncio.sleep(0.01)
        report = monitor.stop()
    finally:
        for signum in free:
            signal.signal(signum, signal.SIG_DFL)
    assert report.sampled_by == "watchdog"
    lines = {(s.user_frame.filename, s.user_frame.lineno) for st in report.stalls for s in st.sites
             if s.user_frame}
    assert (str(path), _marked_lines(KINDS_HERE[kind])[kind]) in lines, report

"""The plugin's stall failures explained from the stacks sampled during the stall, in a real
pytest run: the to_thread fix that still stalls once (a worker thread starting), and a blocking
line of the user's own with no SDK frame. Neither is called a sync supabase call."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)
HERE = Path(__file__).resolve().parent

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
addopts = -p no:cacheprovider
"""

ROWS = '''
import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from thread_start_hold import hold_thread_start


def fetch_rows():
    return []


async def list_rows():
    return await asyncio.to_thread(lambda: fetch_rows())


def nap():
    time.sleep(0.3)


async def handler():
    nap()


async def test_fixed_handler_on_a_fresh_pool():
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=2))
    hold_thread_start(threading.get_ident(), ms=150)
    assert await list_rows() == []


async def test_own_blocking_helper():
    await handler()
'''


def _block(out: str, name: str) -> str:
    return out.split(f"_ {name} _", 1)[1].split("\n_____", 1)[0]


def test_stall_failures_say_what_the_samples_show(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(thread_start_hold=(HERE / "thread_start_hold.py").read_text(),
                        test_rows=ROWS)
    result = pytester.runpytest_subprocess("--kit-stalls=30", timeout=120)
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    started = _block(out, "test_fixed_handler_on_a_fresh_pool")
    assert re.search(r"kit: the event loop stalled \d+ ms \(threshold 30 ms\) at test_rows.py:\d+ "
                     r"list_rows", started), started
    flat = " ".join(started.split())
    assert "The executor started a worker thread on the event loop (asyncio.to_thread)" in flat
    assert "sync supabase call" not in flat and "download(" not in flat and "replayed in" not in flat
    assert "set_default_executor(ThreadPoolExecutor(max_workers=n))" in started
    assert "# unchanged:\n    return await asyncio.to_thread(lambda: fetch_rows())" in started
    own = _block(out, "test_own_blocking_helper")
    assert re.search(r"Synchronous code blocks the event loop at test_rows.py:\d+ nap", own), own
    assert "No supabase SDK frame was sampled" in " ".join(own.split())
    assert "fixed:\n    await asyncio.to_thread(nap)" in own

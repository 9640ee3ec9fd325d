"""Benchmark the pytest plugin; prints ratios measured side by side in one run.

    .venv/bin/python bench/pytest_plugin.py              # both parts (b starts a stack)
    .venv/bin/python bench/pytest_plugin.py --rounds 5 --skip-rollback

(a) --kit-stalls overhead: a generated suite of 200 async tests (pytest-asyncio, auto mode;
    each test awaits 50 times and sleeps 1 ms: small tests, where the monitor's fixed cost
    per test shows most) run with ``--kit-stalls`` and without, alternating, in fresh
    pytest processes. Three ratios, medians over the rounds: the whole run's wall time; its
    CPU time (user + system of the pytest process and its threads: the watchdog's cost,
    and the figure least moved by other load on the machine); and the summed test
    durations (setup + call + teardown, from junit XML) that exclude pytest's start-up.
    Goal: <= 1.10.
(b) rollback cost per test: one write (an insert through psycopg, tagged like kit_db's)
    inside ``UndoLog.around_test`` (begin + undo, on the session's connection) against
    the same write, untagged, without it, on the embedded stack; prints the added ms.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

TESTS = 200
SUITE = '''
import asyncio
import pytest


@pytest.mark.parametrize("n", range({tests}))
async def test_small(n):
    for _ in range(50):
        await asyncio.sleep(0)
    await asyncio.sleep(0.001)
'''
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(folder: Path, args: list[str], tag: str) -> tuple[float, float, float]:
    junit = folder / f"{tag}.xml"
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           f"--junitxml={junit}", *args], cwd=folder, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"the generated suite failed ({' '.join(args) or 'no options'}):\n{done.stdout}")
    cases = ET.parse(junit).getroot().iter("testcase")
    return wall, cpu, sum(float(case.get("time", 0)) for case in cases)


def stalls_overhead(rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text(INI)
        (folder / "test_suite.py").write_text(SUITE.format(tests=TESTS))
        _run(folder, [], "warm")
        ratios: list[tuple[float, ...]] = []
        for index in range(rounds):
            plain = _run(folder, [], f"plain{index}")
            watched = _run(folder, ["--kit-stalls"], f"watched{index}")
            ratios.append(tuple(w / p for w, p in zip(watched, plain, strict=True)))
    wall, cpu, tests = (statistics.median(column) for column in zip(*ratios, strict=True))
    return {"wall_ratio": wall, "cpu_ratio": cpu, "tests_ratio": tests}


def rollback_cost(trials: int) -> dict[str, float]:
    import psycopg

    import kit
    from kit.pytest.rollback import UndoLog

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "stack"
        target = kit.stack.start(folder)
        try:
            url = target.database_url
            assert url is not None
            with psycopg.connect(url, autocommit=True) as plain, \
                    psycopg.connect(url, autocommit=True) as tagged:
                plain.execute("CREATE TABLE bench_rows (id serial PRIMARY KEY, note text)")
                tagged.execute("SELECT set_config('request.jwt.claims', %s, false)",
                               (json.dumps({"kit_test": "bench"}),))
                undo_log = UndoLog(url)
                with undo_log.around_test(tag="bench"):
                    tagged.execute("INSERT INTO bench_rows (note) VALUES ('warm')")
                bare, undone = [], []
                for _ in range(trials):
                    start = time.perf_counter()
                    plain.execute("INSERT INTO bench_rows (note) VALUES ('kept')")
                    bare.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    with undo_log.around_test(tag="bench"):
                        tagged.execute("INSERT INTO bench_rows (note) VALUES ('undone')")
                    undone.append(time.perf_counter() - start)
                left = plain.execute("SELECT count(*) FROM bench_rows").fetchone()
                undo_log.close()
        finally:
            kit.stack.stop(folder)
    return {"bare_ms": statistics.median(bare) * 1000, "with_rollback_ms":
            statistics.median(undone) * 1000, "rows_left": float(left[0] if left else -1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-rollback", action="store_true")
    args = parser.parse_args()
    figures = stalls_overhead(args.rounds)
    print(f"(a) --kit-stalls on {TESTS} async tests, median of {args.rounds} alternating rounds:")
    print(f"    wall time ratio (watched / plain)        {figures['wall_ratio']:.3f}  (goal <= 1.10)")
    print(f"    CPU time ratio (user + system)            {figures['cpu_ratio']:.3f}  (goal <= 1.10)")
    print(f"    summed test durations ratio               {figures['tests_ratio']:.3f}")
    if not args.skip_rollback:
        cost = rollback_cost(50)
        print("(b) rollback per test (watch + undo of one write), median of 50:")
        print(f"    one write alone {cost['bare_ms']:.2f} ms; with rollback {cost['with_rollback_ms']:.2f}"
              f" ms; added {cost['with_rollback_ms'] - cost['bare_ms']:.2f} ms per test "
              f"({cost['rows_left']:.0f} rows left: the bare writes, all kept)")


if __name__ == "__main__":
    main()

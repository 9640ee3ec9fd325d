"""Benchmark the loop monitor and the arena; prints figures measured side by side in one run.

    .venv/bin/python bench/loop.py            # all three parts (c needs the embedded stack)
    .venv/bin/python bench/loop.py --skip-arena

(a) detection: 100 trials of a 20 ms blocking call (time.sleep(0.02) in a coroutine).
    Monitor settings for this part: heartbeat every 5 ms, threshold 15 ms, so a 20 ms
    block (a 20-25 ms gap between beats) is over the threshold while normal beats (5 ms
    apart) are far under it. Counts the trials whose stall was traced to the sleeping line.
    Target: >= 99.
(b) overhead: a CPU-bound asyncio workload (tasks computing and yielding) with and without
    the monitor at its defaults (heartbeat 5 ms, threshold 20 ms), alternating, median
    ratio. Target: <= 1.02. Then the same with threshold 100 ms: the watchdog wakes about once
    per threshold while the loop is healthy, and each wake takes the GIL from the loop, so
    this separates the wake cost from the heartbeat's.
(c) arena overhead: kit.diff of one select in `async` mode vs the bare awaited call on a
    warm AsyncClient, and vs asyncio.run of a fresh client + the call (the honest
    comparison: the arena builds fresh clients and a fresh loop each time).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kit.loop import LoopMonitor

TRIALS = 100
BLOCK_S = 0.02


async def _blocking_trial() -> None:
    await asyncio.sleep(0.012)
    time.sleep(BLOCK_S)  # noqa: ASYNC251 - the line every stall must be traced to
    await asyncio.sleep(0.012)


BLOCK_LINE = _blocking_trial.__code__.co_firstlineno + 2


def detection() -> tuple[int, int, list[float]]:
    async def main() -> tuple[int, int, list[float]]:
        loop = asyncio.get_running_loop()
        traced = detected = 0
        durations: list[float] = []
        for _ in range(TRIALS):
            monitor = LoopMonitor(loop, threshold_ms=15, interval_ms=5).start()
            await _blocking_trial()
            report = monitor.stop()
            hits = [s for s in report.stalls if s.user_frame is not None
                    and s.user_frame.lineno == BLOCK_LINE
                    and s.user_frame.function == "_blocking_trial"]
            detected += bool(report.stalls)
            traced += bool(hits)
            durations += [s.duration_ms for s in hits]
        return detected, traced, durations
    return asyncio.run(main())


async def _cpu_workload(tasks: int = 100, steps: int = 300) -> None:
    async def worker(seed: int) -> int:
        total = 0
        for step in range(steps):
            total += sum((seed * step + k) % 7 for k in range(60))
            await asyncio.sleep(0)
        return total
    await asyncio.gather(*(worker(i) for i in range(tasks)))


def overhead(rounds: int = 20, threshold_ms: float = 20.0) -> tuple[float, float, float]:
    async def timed(monitored: bool) -> float:
        loop = asyncio.get_running_loop()
        monitor = LoopMonitor(loop, threshold_ms=threshold_ms).start() if monitored else None
        started = time.perf_counter()
        await _cpu_workload()
        elapsed = time.perf_counter() - started
        if monitor is not None:
            monitor.stop()
        return elapsed

    async def main() -> tuple[list[float], list[float]]:
        bare, watched = [], []
        await timed(False)  # warm-up
        for index in range(rounds):  # ABBA order, so drift in machine load cancels out
            first = index % 2 == 0
            a = await timed(not first)
            b = await timed(first)
            bare.append(a if first else b)
            watched.append(b if first else a)
        return bare, watched
    bare, watched = asyncio.run(main())
    ratios = [w / b for w, b in zip(watched, bare)]
    return statistics.median(ratios), statistics.median(bare), statistics.median(watched)


def arena(rounds: int = 15) -> tuple[float, float, float]:
    import kit
    from kit.clients import clients as make_clients

    with tempfile.TemporaryDirectory() as tmp:
        target = kit.stack.start(Path(tmp) / ".kit" / "stack")
        try:
            import psycopg
            with psycopg.connect(target.database_url, autocommit=True) as conn:
                conn.execute("create table if not exists public.bench_rows (id int primary key, v text)")
                conn.execute("insert into public.bench_rows values (1, 'x') on conflict do nothing")

            def op(c: object) -> object:
                return c.table("bench_rows").select("*").eq("id", 1).execute()  # type: ignore[attr-defined]

            async def warm_calls() -> list[float]:
                c = make_clients(target)
                await op(c.async_)
                times = []
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    await op(c.async_)
                    times.append(time.perf_counter() - t0)
                await c.aclose()
                c.close()
                return times

            async def cold_call() -> None:
                c = make_clients(target)
                await op(c.async_)
                await c.aclose()
                c.close()

            warm = statistics.median(asyncio.run(warm_calls()))
            cold, diffs = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                asyncio.run(cold_call())
                cold.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                report = kit.diff(op, target=target, modes="async")
                diffs.append(time.perf_counter() - t0)
                assert report["async"].outcome == "value", report
            return statistics.median(diffs) * 1000, warm * 1000, statistics.median(cold) * 1000
        finally:
            kit.stack.stop(Path(tmp) / ".kit" / "stack")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-arena", action="store_true", help="skip part (c), the stack part")
    args = parser.parse_args(argv)
    detected, traced, durations = detection()
    print(f"(a) detection: {traced}/{TRIALS} 20 ms blocks traced to the right line "
          f"({detected} detected; median stall {statistics.median(durations or [0]):.1f} ms; "
          f"heartbeat 5 ms, threshold 15 ms)  target >= 99")
    ratio, bare, watched = overhead()
    print(f"(b) overhead: monitored/bare = {ratio:.3f} (median of 20 ABBA pairs; bare "
          f"{bare * 1000:.0f} ms, monitored {watched * 1000:.0f} ms)  target <= 1.02")
    ratio, bare, watched = overhead(threshold_ms=100.0)
    print(f"    the same with threshold 100 ms (5x fewer watchdog wakes): {ratio:.3f}")
    if not args.skip_arena:
        diff_ms, warm_ms, cold_ms = arena()
        print(f"(c) arena: kit.diff(async) {diff_ms:.1f} ms vs bare awaited call {warm_ms:.1f} ms "
              f"(ratio {diff_ms / warm_ms:.1f}); vs asyncio.run(fresh client + call) "
              f"{cold_ms:.1f} ms (ratio {diff_ms / cold_ms:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

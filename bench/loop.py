"""Benchmark the loop monitor and the arena; prints figures measured side by side, each run N times.

    .venv/bin/python bench/loop.py                  # every part, 3 runs, min/median/max
    .venv/bin/python bench/loop.py --skip-arena --idle-seconds 20 --runs 1
    .venv/bin/python bench/loop.py --skip-arena --user-sigalrm   # what pytest-timeout users get

All monitor settings are the defaults (heartbeat 5 ms, threshold 20 ms).
With --user-sigalrm each monitor starts while SIGALRM has a handler and ITIMER_REAL a long timer,
both set as pytest-timeout's default ``signal`` method sets them for each test
(``pytest_timeout.pytest_timeout_set_timer``) and cancelled after it stops as its ``cancel`` does:
the monitor cannot use SIGALRM and picks its next sampler (see ``sampled_by`` in the output).
(a) detection: 100 trials of a 20 ms blocking call (time.sleep(0.02) in a coroutine) at a
    random phase to the heartbeat; counts trials traced to the sleeping line, stalls not
    sampled, and blocks wrongly judged a scheduling delay. Target: >= 99 traced.
(a') the same under a CPU hog: two busy processes per core (--hog-per-core), started and stopped by this script
    (each also ends itself after a bounded time). Target: >= 99 traced.
(d) idle under load: a loop that only awaits asyncio.sleep for --idle-seconds (default 60)
    under the same hog; counts stalls (target 0) and scheduling delays (the machine not
    running the process: reported apart, never at a line).
(b) overhead: a CPU-bound asyncio workload (tasks computing and yielding) with and without
    the monitor, alternating, median ratio. Target: <= 1.02. Then with threshold 100 ms.
    Then an I/O-bound one: round trips to an echo server over loopback, where the loop waits in
    its selector twice per round trip (the monitor times each wait: kit.loop.selector_wait).
(b') with --compare-ticks: the CPU-bound overhead of each tick source the kit has (the rt-timer,
    SIGALRM), each alone in turn, side by side with the bare workload.
(c) arena overhead: kit.diff of one select in `async` mode vs the bare awaited call on a
    warm AsyncClient, and vs asyncio.run of a fresh client + the call (the honest
    comparison: the arena builds fresh clients and a fresh loop each time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hog import cpu_hog  # bench/hog.py: the script's folder is on sys.path

from kit.loop import LoopMonitor, LoopReport

TRIALS = 100
BLOCK_S = 0.02
USER_TIMEOUT_S = 300.0  # this project's own pytest-timeout setting (pyproject.toml)


class Monitors:
    """Starts and stops each monitor of the bench, with SIGALRM held like pytest-timeout when
    ``hold_sigalrm``: a handler of the user's and ``ITIMER_REAL`` armed for 300 s before the start,
    both cancelled (timer 0, ``SIG_DFL``) after the stop."""

    def __init__(self, hold_sigalrm: bool) -> None:
        self.hold_sigalrm = hold_sigalrm

    def start(self, loop: asyncio.AbstractEventLoop, threshold_ms: float = 20.0) -> LoopMonitor:
        if self.hold_sigalrm:
            signal.signal(signal.SIGALRM, _users_timeout_handler)
            signal.setitimer(signal.ITIMER_REAL, USER_TIMEOUT_S)
        return LoopMonitor(loop, threshold_ms=threshold_ms).start()

    def stop(self, monitor: LoopMonitor) -> LoopReport:
        report = monitor.stop()
        if self.hold_sigalrm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
        return report


def _users_timeout_handler(signum: int, frame: object) -> None:
    raise TimeoutError("the user's SIGALRM timer fired: the bench ran past 300 s in one monitor")


async def _blocking_trial(phase_s: float) -> None:
    await asyncio.sleep(phase_s)
    time.sleep(BLOCK_S)  # noqa: ASYNC251 - the line every stall must be traced to
    await asyncio.sleep(0.012)


BLOCK_LINE = _blocking_trial.__code__.co_firstlineno + 2


def detection(rng: random.Random, monitors: Monitors) -> dict[str, float]:
    async def main() -> dict[str, float]:
        loop = asyncio.get_running_loop()
        traced = detected = not_sampled = misjudged = 0
        durations: list[float] = []
        for _ in range(TRIALS):
            monitor = monitors.start(loop)
            await _blocking_trial(rng.uniform(0.006, 0.016))
            report = monitors.stop(monitor)
            hits = [s for s in report.stalls if any(
                site.user_frame is not None and site.user_frame.lineno == BLOCK_LINE
                and site.user_frame.function == "_blocking_trial" for site in s.sites)]
            detected += bool(report.stalls)
            traced += bool(hits)
            not_sampled += report.not_sampled
            misjudged += bool(report.delays) and not report.stalls
            durations += [s.duration_ms for s in hits]
        return {"traced": traced, "detected": detected, "not_sampled": not_sampled,
                "judged_delay": misjudged, "median_stall_ms": statistics.median(durations or [0])}
    return asyncio.run(main())


def idle(seconds: float, monitors: Monitors) -> dict[str, float]:
    async def main() -> dict[str, float]:
        monitor = monitors.start(asyncio.get_running_loop())
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        report = monitors.stop(monitor)
        return {"stalls": len(report.stalls), "delays": len(report.delays),
                "max_delay_ms": report.max_delay_ms, "max_gap_ms": report.max_gap_ms}
    return asyncio.run(main())


async def _cpu_workload(tasks: int = 100, steps: int = 300) -> None:
    async def worker(seed: int) -> int:
        total = 0
        for step in range(steps):
            total += sum((seed * step + k) % 7 for k in range(60))
            await asyncio.sleep(0)
        return total
    await asyncio.gather(*(worker(i) for i in range(tasks)))


def overhead(monitors: Monitors, rounds: int = 20,
             threshold_ms: float = 20.0) -> tuple[float, float, float]:
    async def timed(monitored: bool) -> float:
        loop = asyncio.get_running_loop()
        monitor = monitors.start(loop, threshold_ms=threshold_ms) if monitored else None
        started = time.perf_counter()
        await _cpu_workload()
        elapsed = time.perf_counter() - started
        if monitor is not None:
            monitors.stop(monitor)
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


def echo_overhead(monitors: Monitors, rounds: int = 12, trips: int = 2000) -> float:
    """Median monitored/bare time of ``trips`` echo round trips over loopback, ABBA order."""
    async def main() -> float:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(100):
                writer.write(data)
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])

        async def timed(monitored: bool) -> float:
            monitor = monitors.start(asyncio.get_running_loop()) if monitored else None
            started = time.perf_counter()
            for _ in range(trips):
                writer.write(b"x" * 50)
                await reader.read(100)
            elapsed = time.perf_counter() - started
            if monitor is not None:
                monitors.stop(monitor)
            return elapsed

        await timed(False)  # warm-up
        ratios = []
        for index in range(rounds):
            first = index % 2 == 0
            a = await timed(not first)
            b = await timed(first)
            ratios.append((b / a) if first else (a / b))
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return statistics.median(ratios)
    return asyncio.run(main())


def tick_sources_overhead(rounds: int = 20) -> dict[str, float]:
    """Median monitored/bare time of the CPU-bound workload for each of the kit's tick sources
    that can run here (``kit.loop.alarm.TICK_SOURCES``, each alone in turn), side by side: the
    three runs of a round in forward, then reverse order, so drift in machine load cancels out."""
    from kit.loop import alarm

    sources = alarm.TICK_SOURCES

    async def timed(source: type[alarm.SignalTicks] | None) -> float:
        monitor = None
        if source is not None:
            alarm.TICK_SOURCES = (source,)
            monitor = LoopMonitor(asyncio.get_running_loop()).start()
        started = time.perf_counter()
        await _cpu_workload()
        elapsed = time.perf_counter() - started
        if source is not None and monitor is not None and monitor.stop().sampled_by != source.name:
            raise RuntimeError(f"{source.name} could not run here (SIGALRM held?)")
        return elapsed

    async def main() -> dict[str, float]:
        await timed(None)  # warm-up
        ratios: dict[str, list[float]] = {source.name: [] for source in sources}
        for index in range(rounds):
            order: list[type[alarm.SignalTicks] | None] = [None, *sources]
            elapsed = {s: await timed(s) for s in (order if index % 2 == 0 else order[::-1])}
            for source in sources:
                ratios[source.name].append(elapsed[source] / elapsed[None])
        return {name: statistics.median(values) for name, values in ratios.items()}
    try:
        return asyncio.run(main())
    finally:
        alarm.TICK_SOURCES = sources


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


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    """``min/median/max`` of one figure over the runs."""
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def one_run(args: argparse.Namespace, rng: random.Random) -> dict[str, float]:
    figures: dict[str, float] = {}
    monitors = Monitors(args.user_sigalrm)
    figures.update({f"quiet_{k}": v for k, v in detection(rng, monitors).items()})
    with cpu_hog(args.idle_seconds + 60, args.hog_per_core):
        figures.update({f"hog_{k}": v for k, v in detection(rng, monitors).items()})
        figures.update({f"idle_{k}": v for k, v in idle(args.idle_seconds, monitors).items()})
    if not args.skip_overhead:
        figures["overhead"], _, _ = overhead(monitors)
        figures["overhead_100ms"], _, _ = overhead(monitors, threshold_ms=100.0)
        figures["overhead_echo"] = echo_overhead(monitors)
    if args.compare_ticks:
        figures.update({f"ticks_{name}": ratio for name, ratio in tick_sources_overhead().items()})
    if not args.skip_arena:
        diff_ms, warm_ms, cold_ms = arena()
        figures.update(arena_ms=diff_ms, arena_vs_warm=diff_ms / warm_ms,
                       arena_vs_cold=diff_ms / cold_ms)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-arena", action="store_true", help="skip part (c), the stack part")
    parser.add_argument("--skip-overhead", action="store_true", help="skip part (b)")
    parser.add_argument("--idle-seconds", type=float, default=60.0, help="length of part (d)")
    parser.add_argument("--hog-per-core", type=int, default=2, help="busy processes per core")
    parser.add_argument("--runs", type=int, default=3, help="repeat everything; min/median/max")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random phases")
    parser.add_argument("--compare-ticks", action="store_true",
                        help="(b') the CPU-bound overhead of each tick source, side by side")
    parser.add_argument("--user-sigalrm", action="store_true",
                        help="hold SIGALRM and ITIMER_REAL around each monitor as pytest-timeout does")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    runs = [one_run(args, rng) for _ in range(args.runs)]
    f = {key: [run[key] for run in runs] for key in runs[0]}
    async def sampled_by() -> str:
        monitors = Monitors(args.user_sigalrm)
        return monitors.stop(monitors.start(asyncio.get_running_loop())).sampled_by
    held = "; SIGALRM held as by pytest-timeout" if args.user_sigalrm else ""
    print(f"figures are min/median/max over {args.runs} runs; monitor at its defaults "
          f"(heartbeat 5 ms, threshold 20 ms){held}; stacks sampled by the "
          f"{asyncio.run(sampled_by())}")
    for where in ("quiet", "hog"):
        label = "(a) detection, quiet machine" if where == "quiet" else \
            f"(a') detection under a CPU hog ({args.hog_per_core} per core, {os.cpu_count()} cores)"
        print(f"{label}: {spread(f[where + '_traced'])} of {TRIALS} 20 ms blocks traced to the "
              f"right line (detected {spread(f[where + '_detected'])}; not sampled "
              f"{spread(f[where + '_not_sampled'])}; judged a scheduling delay "
              f"{spread(f[where + '_judged_delay'])}; median stall "
              f"{spread(f[where + '_median_stall_ms'], '{:.1f}')} ms)  target >= 99")
    print(f"(d) idle loop under the hog, {args.idle_seconds:.0f} s: {spread(f['idle_stalls'])} stalls "
          f"(target 0); {spread(f['idle_delays'])} scheduling delays reported apart, longest "
          f"{spread(f['idle_max_delay_ms'], '{:.1f}')} ms; longest gap "
          f"{spread(f['idle_max_gap_ms'], '{:.1f}')} ms")
    if "overhead" in f:
        print(f"(b) overhead: monitored/bare = {spread(f['overhead'], '{:.3f}')} (median of 20 ABBA "
              f"pairs per run)  target <= 1.02; with threshold 100 ms: "
              f"{spread(f['overhead_100ms'], '{:.3f}')}; loopback echo round trips (I/O-bound): "
              f"{spread(f['overhead_echo'], '{:.3f}')}")
    ticks = [key for key in f if key.startswith("ticks_")]
    if ticks:
        print("(b') overhead of each tick source, side by side (monitored/bare, median of 20 rounds "
              "per run): " + "; ".join(f"{key[6:]} {spread(f[key], '{:.3f}')}" for key in ticks))
    if "arena_ms" in f:
        print(f"(c) arena: kit.diff(async) {spread(f['arena_ms'], '{:.1f}')} ms; ratio to the bare "
              f"awaited call {spread(f['arena_vs_warm'], '{:.1f}')}; to asyncio.run(fresh client + "
              f"call) {spread(f['arena_vs_cold'], '{:.2f}')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

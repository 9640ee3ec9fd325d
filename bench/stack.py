"""Benchmark the embedded stack; prints figures measured side by side, each run N times.

    .venv/bin/python bench/stack.py              # 3 runs on fresh temp data dirs, min/median/max
    .venv/bin/python bench/stack.py -n 500 --runs 1

- cold start: ``kit.stack.start()`` on a fresh data directory (a copy of the template cluster,
  bootstrap, gateway) until the first HTTP 200 from /rest/v1/      target <= 3 s; beside it the
  first start on a machine (the template cluster is built first) and the load average; then
  the same usual cold start with both cores loaded (``--hog-per-core`` busy processes per core,
  started and stopped by this script)                                 target <= 3 s
- REST latency: GET /rest/v1/<table>?select=*&id=eq.<n> (supabase-py's select-by-id) vs
  GET /_kit/ping (the trivial route, the floor) on one keep-alive connection, alternating,
  median over median                                 target <= 1.5
- server CPU per request: ping, select-by-id and /_kit/ping/db (one ``SELECT 1`` through the
  stack's own round trip: the floor no route that reads the database can beat) in alternating
  blocks of 100, with the CPU time the stack's gateway process and its PostgreSQL processes
  spent per request, read before and after each block from /proc/<pid>/task/<tid>/schedstat
  (nanoseconds on a CPU; psutil's times move in 10 ms ticks) or, off Linux, psutil: the
  client's own cost is in neither, so these ratios cannot be flattered by it
      gateway select/ping     target <= 1.5 (the gateway process: the issue's "stack CPU")
      server select/ping      gateway + PostgreSQL, beside it
      floor/ping, select/floor  what any database round trip costs the gateway, and what the
                              REST code itself adds on top of it

Other services add their figures through ``EXTRA_MEASUREMENTS``: callables
``measure(target) -> dict[str, float]``; bench/stack_storage.py's ``measure`` is picked up
when that file exists.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
from hog import cpu_hog  # bench/hog.py: the script's folder is on sys.path

import kit
from kit.targets import Target

Measurement = Callable[[Target], dict[str, float]]
TARGETS = {"cold_start_s": 3.0, "cold_start_under_hog_s": 3.0, "rest_select_by_id_vs_ping_ratio": 1.5,
           "gateway_cpu_select_vs_ping_ratio": 1.5}


def cold_start(data_dir: Path, hog_per_core: int = 1) -> tuple[Target, dict[str, float]]:
    """Seconds from ``kit.stack.start()`` on an empty data directory until /rest/v1/ first answers
    200, twice, on a private empty template cache (KIT_CACHE_DIR): the first start on a machine
    (it builds the template cluster, then copies it), then the usual cold start (the template
    exists, as after that first start), and that usual start again with ``hog_per_core`` busy
    processes per core; with the 1-minute load averages when they ran. The client
    is made before the clock starts (httpx builds a TLS context: the client's cost, not the stack's)."""
    def timed_start(folder: Path) -> tuple[Target, float]:
        with httpx.Client(timeout=30) as http:
            began = time.perf_counter()
            target = kit.stack.start(folder)
            while http.get(f"{target.url}/rest/v1/", headers={"apikey": target.anon_key}).status_code != 200:
                time.sleep(0.01)
            return target, time.perf_counter() - began

    before = os.environ.get("KIT_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="kit-bench-cache-") as cache:
        os.environ["KIT_CACHE_DIR"] = cache
        try:
            first_dir = data_dir.with_name(data_dir.name + "-first")
            try:
                _, first = timed_start(first_dir)
            finally:
                kit.stack.stop(first_dir)
            target, usual = timed_start(data_dir)
            loaded_dir = data_dir.with_name(data_dir.name + "-loaded")
            try:
                with cpu_hog(seconds=120, per_core=hog_per_core):
                    _, loaded = timed_start(loaded_dir)
                    load = os.getloadavg()[0]
            finally:
                kit.stack.stop(loaded_dir)
        finally:
            del os.environ["KIT_CACHE_DIR"]
            if before is not None:
                os.environ["KIT_CACHE_DIR"] = before
    return target, {"cold_start_s": usual, "cold_start_first_on_machine_s": first,
                    "load_average_1min": os.getloadavg()[0], "cold_start_under_hog_s": loaded,
                    "load_average_1min_under_hog": load}


def rest_latency(target: Target, rounds: int = 2000) -> dict[str, float]:
    """Median select-by-id through the gateway over median /_kit/ping, alternating."""
    assert target.database_url
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_people (id int PRIMARY KEY, name text, "
                     "age int, meta jsonb); TRUNCATE bench_people; INSERT INTO bench_people "
                     "SELECT i, 'person ' || i, i % 90, jsonb_build_object('n', i) "
                     "FROM generate_series(1, 1000) i")
    key = target.anon_key
    ping, rest = [], []
    with httpx.Client(base_url=target.url, timeout=30,
                      headers={"apikey": key, "Authorization": f"Bearer {key}"}) as http:
        for i in range(rounds + 200):
            path = f"/rest/v1/bench_people?select=*&id=eq.{i % 1000 + 1}"
            start = time.perf_counter()
            floor = http.get("/_kit/ping")
            middle = time.perf_counter()
            answer = http.get(path)
            end = time.perf_counter()
            if floor.status_code != 200 or answer.status_code != 200 or len(answer.json()) != 1:
                raise SystemExit(f"bench request failed: {answer.status_code} {answer.text[:200]}")
            if i >= 200:  # the first 200 rounds warm caches and prepared statements
                ping.append(middle - start)
                rest.append(end - middle)
    return {"ping_median_ms": statistics.median(ping) * 1000,
            "rest_select_by_id_median_ms": statistics.median(rest) * 1000,
            "rest_select_by_id_vs_ping_ratio": statistics.median(rest) / statistics.median(ping)}


def _stack_processes(target: Target, data_dir: Path) -> tuple[psutil.Process, list[psutil.Process]]:
    """The gateway process and the PostgreSQL processes (postmaster and backends) of the stack."""
    from kit.stack.state import StackState, state_path

    state = StackState.read(state_path(data_dir))
    assert state is not None
    # postmaster.pid, not the command line: as root the server runs with -D /proc/self/fd/N
    # (kit.stack.postgres), so its command line never names the data directory
    postgres: list[psutil.Process] = []
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        postmaster = psutil.Process(int((data_dir / "pg" / "postmaster.pid").read_text().split("\n", 1)[0]))
        postgres = [postmaster, *postmaster.children(recursive=True)]
    if not postgres and state.embedded_postgres:
        raise SystemExit(f"bench: no PostgreSQL process found for {data_dir}")
    return psutil.Process(state.pid), postgres


def _cpu(processes: list[psutil.Process]) -> float:
    """CPU seconds the processes have spent, all their threads: /proc schedstat (ns) on Linux,
    else psutil's user + system (clock ticks)."""
    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.Error, OSError, ValueError):
            total += _schedstat_s(proc.pid)
            continue
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def _schedstat_s(pid: int) -> float:
    """Seconds on a CPU of every thread of ``pid`` (first field of each task's schedstat, ns)."""
    tasks = Path(f"/proc/{pid}/task")
    return sum(int((tasks / tid / "schedstat").read_text().split()[0]) for tid in os.listdir(tasks)) / 1e9


def server_cpu(target: Target, data_dir: Path, blocks: int = 30, block: int = 100) -> dict[str, float]:
    """Server CPU per request (gateway, PostgreSQL) for ping, the database floor and select-by-id."""
    key = target.anon_key
    paths = {"ping": lambda i: "/_kit/ping", "floor": lambda i: "/_kit/ping/db",
             "select": lambda i: f"/rest/v1/bench_people?select=*&id=eq.{i % 1000 + 1}"}
    per: dict[str, dict[str, list[float]]] = {name: {"gateway": [], "postgres": []} for name in paths}
    with httpx.Client(base_url=target.url, timeout=30,
                      headers={"apikey": key, "Authorization": f"Bearer {key}"}) as http:
        for i in range(200):  # warm: connection, caches, prepared statements
            for path in paths.values():
                http.get(path(i)).raise_for_status()
        gateway, _ = _stack_processes(target, data_dir)
        order = list(paths)
        for round_ in range(blocks):
            for name in order[round_ % len(order):] + order[:round_ % len(order)]:
                _, postgres = _stack_processes(target, data_dir)  # backends come and go
                g0, p0 = _cpu([gateway]), _cpu(postgres)
                for i in range(block):
                    http.get(paths[name](i)).raise_for_status()
                per[name]["gateway"].append((_cpu([gateway]) - g0) / block)
                per[name]["postgres"].append((_cpu(postgres) - p0) / block)
    # means over all blocks: with psutil's clock ticks (off Linux) a block's figure is coarse
    us = {f"{name}_{part}": statistics.fmean(values) * 1e6 for name, parts in per.items()
          for part, values in parts.items()}
    server = {name: us[f"{name}_gateway"] + us[f"{name}_postgres"] for name in paths}
    return {"gateway_cpu_ping_us": us["ping_gateway"], "gateway_cpu_floor_us": us["floor_gateway"],
            "gateway_cpu_select_us": us["select_gateway"], "postgres_cpu_select_us": us["select_postgres"],
            "server_cpu_ping_us": server["ping"], "server_cpu_select_us": server["select"],
            "gateway_cpu_select_vs_ping_ratio": us["select_gateway"] / us["ping_gateway"],
            "gateway_cpu_floor_vs_ping_ratio": us["floor_gateway"] / us["ping_gateway"],
            "gateway_cpu_select_vs_floor_ratio": us["select_gateway"] / us["floor_gateway"],
            "server_cpu_select_vs_ping_ratio": server["select"] / server["ping"]}


def extra_measurements(folder: Path = Path(__file__).parent) -> list[Measurement]:
    """Measurements other services contribute (``bench/stack_storage.py`` → ``measure``)."""
    found: list[Measurement] = []
    for name in ("stack_storage",):
        path = folder / f"{name}.py"
        if path.exists():
            spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            found.append(module.measure)
    return found


# ---- extra measurements: other services append here (or drop a bench/stack_<service>.py) ----
EXTRA_MEASUREMENTS: list[Measurement] = extra_measurements()


@contextlib.contextmanager
def fresh_stack_dir(prefix: str = "kit-bench-") -> Iterator[Path]:
    """An empty stack data directory in a temp dir; the stack started there is stopped after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        Path(tmp).chmod(0o755)  # pgserver runs PostgreSQL as its own user when we are root
        folder = Path(tmp) / "stack"
        try:
            yield folder
        finally:
            kit.stack.stop(folder)


def render(figures: dict[str, float], targets: dict[str, float] | None = None) -> str:
    """One line per figure, with its target when it has one (``targets``, default this file's)."""
    return render_runs([figures], targets)


def render_runs(runs: list[dict[str, float]], targets: dict[str, float] | None = None) -> str:
    """One line per figure: min/median/max over the runs, with its target when it has one."""
    lines = [f"{'figure':<40} {'min':>10} {'median':>10} {'max':>10}   ({len(runs)} runs)"]
    for name in runs[0]:
        values = [run[name] for run in runs]
        middle = statistics.median(values)
        goal = (TARGETS if targets is None else targets).get(name)
        verdict = "" if goal is None else f"   (target <= {goal:g}: {'ok' if middle <= goal else 'MISSED'})"
        lines.append(f"{name:<40} {min(values):10.3f} {middle:10.3f} {max(values):10.3f}{verdict}")
    return "\n".join(lines)


def one_run(rounds: int, hog_per_core: int = 1) -> dict[str, float]:
    with fresh_stack_dir() as folder:
        target, figures = cold_start(folder, hog_per_core)
        figures.update(rest_latency(target, rounds))
        figures.update(server_cpu(target, folder))
        for measure in EXTRA_MEASUREMENTS:
            figures.update(measure(target))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rounds", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3, help="fresh stacks; min/median/max")
    parser.add_argument("--hog-per-core", type=int, default=1,
                        help="busy processes per core during the loaded cold start (default 1)")
    args = parser.parse_args(argv)
    print(render_runs([one_run(args.rounds, args.hog_per_core) for _ in range(args.runs)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

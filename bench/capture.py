"""Recording cost and memory: side-by-side figures against the embedded stack, each run N times.

    .venv/bin/python bench/capture.py                 # all parts, 3 runs, min/median/max
    .venv/bin/python bench/capture.py -n 2000 --block 50 --runs 1

(a) end to end: the same selects with bare clients and with kit's recording clients,
    alternating in blocks. "Bare" is a supabase Client whose injected httpx client has the
    same settings as kit's (same transport class, timeout, redirects) but no recording
    transport. Target: <= 1.03.
(b) isolated per-exchange cost: RecordingTransport around an in-process transport
    (httpx.MockTransport answering a fixed 200 JSON) against that transport alone, 20,000
    exchanges in alternating blocks: the recording's own microseconds per exchange, with no
    network noise, then as a share of one select's latency from (a). Resolves far under 3 %.
(c) large bodies: a child process downloads a 4.5 MB JSON object from storage 20 times
    through kit's recording clients and reports its peak RSS above its base (VmHWM after
    resetting it, /proc/self/clear_refs) against the bytes recorded, with the default spill
    size and with spilling off. Target: <= 1.3x the bytes recorded + a fixed base.
(d) HAR: the same child writes the capture with save_har: seconds per 100 MB of bodies (wall
    clock, and the process's CPU time beside it: on a loaded machine wall time also counts the
    time the process waited for a core) and the peak RSS the export added. Target: <= 1 s per
    100 MB.
(e) HAR by kind of body, in process, no network: 20 bodies of each kind, one kind at a time:
    the same JSON, the JSON with a JWT in an "access_token" field of every row (every row has
    secrets to mask), and random bytes (base64). Wall and CPU seconds per 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from supabase import AsyncClient, AsyncClientOptions, Client
from supabase.lib.client_options import SyncClientOptions

import kit

HTTP2 = importlib.util.find_spec("h2") is not None


def bare_sync(target: kit.Target) -> Client:
    http = httpx.Client(transport=httpx.HTTPTransport(http2=HTTP2), timeout=120.0,
                        follow_redirects=True)
    return Client(target.url, target.key, SyncClientOptions(httpx_client=http))


def bare_async(target: kit.Target) -> AsyncClient:
    http = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(http2=HTTP2), timeout=120.0,
                             follow_redirects=True)
    return AsyncClient(target.url, target.key, AsyncClientOptions(httpx_client=http))


def alternate(n: int, block: int, runs: dict[str, Callable[[int], float]]) -> dict[str, list[float]]:
    """Run each contender ``block`` calls at a time, alternating, until each made ``n`` calls."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(n // block):
        for name, run in runs.items():
            times[name].append(run(block))
    return times


BIG_ROWS = 30_000  # about 4.5 MB of JSON
DOWNLOADS = 20


def rss_peak_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def memory_child(url: str, key: str, spill: str) -> None:
    """In a fresh process: 20 downloads recorded, then save_har; prints JSON figures."""
    from kit.capture import Capture
    from kit.targets import Target

    import gc
    capture = Capture(spill_above=None if spill == "off" else int(spill))
    c = kit.clients(Target("remote", url, key, key), capture=capture)
    c.sync.storage.from_("bench").download("big.json")  # warm: imports, connection
    capture.clear()
    gc.collect()
    reset_peak()
    base = rss_peak_kb()
    for _ in range(DOWNLOADS):
        data = c.sync.storage.from_("bench").download("big.json")
        del data
    recorded = sum(ex.response_size for ex in capture)
    peak = rss_peak_kb()
    with tempfile.TemporaryDirectory() as tmp:
        gc.collect()
        reset_peak()
        har_base = rss_peak_kb()
        har_s, har_cpu_s = timed_save_har(capture, Path(tmp) / "run.har")
        har_peak = rss_peak_kb()
    c.close()
    print(json.dumps({"recorded_mb": recorded / 1e6, "rss_above_base_mb": (peak - base) / 1024,
                      "har_s_per_100mb": har_s / (recorded / 1e8),
                      "har_cpu_s_per_100mb": har_cpu_s / (recorded / 1e8),
                      "har_rss_mb": (har_peak - har_base) / 1024}))


def timed_save_har(capture: kit.Capture, path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``capture.save_har(path)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    capture.save_har(path)
    return time.perf_counter() - wall, time.process_time() - cpu


def har_kinds() -> dict[str, float]:
    """(e): wall and CPU seconds per 100 MB of save_har for three kinds of body."""
    from kit.capture import Capture, Exchange

    jwt = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoiYXV0aGVudGljYXRlZCJ9", "c2lnbmF0dXJl"])
    rows = [{"id": i, "name": f"user {i}", "email": f"u{i}@example.com", "bio": "lorem ipsum " * 8}
            for i in range(BIG_ROWS)]
    kinds = {"json": json.dumps(rows).encode(),
             "json_with_secrets": json.dumps([{**row, "access_token": jwt} for row in rows]).encode(),
             "binary": os.urandom(4_500_000)}
    figures: dict[str, float] = {}
    for kind, body in kinds.items():
        capture = Capture(secrets=["bench-known-secret-value"])
        for seq in range(DOWNLOADS):
            capture.append(Exchange("GET", "http://127.0.0.1/storage/v1/object/bench/big.json", (),
                                    capture.keep_body(b""), 200, (("content-type", "application/json"),),
                                    capture.keep_body(body), 0.0, 0.0, 1.0, seq=seq,
                                    secrets=capture.secrets))
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu = timed_save_har(capture, Path(tmp) / "run.har")
        per_100mb = DOWNLOADS * len(body) / 1e8
        figures[f"{kind}_har_s_per_100mb"] = wall / per_100mb
        figures[f"{kind}_har_cpu_s_per_100mb"] = cpu / per_100mb
    return figures


def large_bodies(target: kit.Target) -> dict[str, float]:
    service = kit.clients(target, role="service_role")
    rows = [{"id": i, "name": f"user {i}", "email": f"u{i}@example.com", "bio": "lorem ipsum " * 8}
            for i in range(BIG_ROWS)]
    body = json.dumps(rows).encode()
    try:
        service.sync.storage.create_bucket("bench")
    except Exception:  # noqa: BLE001 - it exists from an earlier run
        pass
    service.sync.storage.from_("bench").upload("big.json", body, {"content-type": "application/json",
                                                                  "upsert": "true"})
    service.close()
    figures: dict[str, float] = {"body_mb": len(body) / 1e6}
    for spill in ("default", "off"):
        out = subprocess.run([sys.executable, __file__, "--memory-child", target.url,
                              target.service_role_key or "", "1048576" if spill == "default" else "off"],
                             capture_output=True, text=True, check=True, timeout=600)
        for name, value in json.loads(out.stdout.strip().splitlines()[-1]).items():
            figures[f"{spill}_{name}"] = value
    return figures


def isolated(rounds: int = 40, block: int = 500) -> float:
    """Microseconds the recording adds to one exchange, without the network."""
    from kit.capture import Capture
    from kit.recording import RecordingTransport

    payload = json.dumps([{"user_id": "u7"}]).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, content=payload)

    capture = Capture()
    plain = httpx.Client(transport=httpx.MockTransport(answer))
    recorded = httpx.Client(transport=RecordingTransport(httpx.MockTransport(answer), capture))
    url = "http://127.0.0.1:1/rest/v1/bench_chats?select=user_id&id=eq.7"

    def timed(client: httpx.Client) -> float:
        start = time.perf_counter()
        for _ in range(block):
            client.get(url)
        return (time.perf_counter() - start) / block

    timed(plain), timed(recorded)
    diffs = []
    for index in range(rounds):  # ABBA
        if index % 2:
            a, b = timed(recorded), timed(plain)
        else:
            b, a = timed(plain), timed(recorded)
        diffs.append(a - b)
        capture.clear()
    return statistics.median(diffs) * 1e6


def spread(values: list[float], fmt: str = "{:.3f}") -> str:
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="selects per contender")
    parser.add_argument("--block", type=int, default=50, help="calls per alternation block")
    parser.add_argument("--runs", type=int, default=3, help="repeat every part; min/median/max")
    parser.add_argument("--memory-child", nargs=3, metavar=("URL", "KEY", "SPILL"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    load_at_start = f"{os.getloadavg()[0]:.2f}"
    with tempfile.TemporaryDirectory(prefix="kit-bench-capture-") as tmp:
        folder = Path(tmp) / ".kit" / "stack"
        target = kit.stack.start(folder)
        try:
            assert target.database_url
            with psycopg.connect(target.database_url, autocommit=True) as conn:
                conn.execute("create table public.bench_chats (id int primary key, user_id text)")
                conn.execute("insert into public.bench_chats select g, 'u' || g "
                             "from generate_series(1, 20) g")
                conn.execute("notify pgrst, 'reload schema'")
            runs = []
            for _ in range(args.runs):
                figures = measure(target, args.n, args.block)
                figures["isolated_us"] = isolated()
                figures.update(large_bodies(target))
                figures.update(har_kinds())
                runs.append(figures)
        finally:
            kit.stack.stop(folder)
    f = {key: [run[key] for run in runs] for key in runs[0]}
    print(f"figures are min/median/max over {args.runs} runs; load average at the start "
          f"{load_at_start}, at the end {os.getloadavg()[0]:.2f} (2 cores)")
    for mode in ("sync", "async"):
        print(f"(a) {mode:5}: bare {spread(f[mode + '_bare_ms'])} ms/select, recording "
              f"{spread(f[mode + '_recording_ms'])} ms/select, overhead ratio "
              f"{spread(f[mode + '_ratio'])}  target <= 1.03")
    share = [us / 1000 / ms * 100 for us, ms in zip(f["isolated_us"], f["sync_bare_ms"])]
    print(f"(b) isolated: recording adds {spread(f['isolated_us'], '{:.1f}')} us per exchange "
          f"(median of 40 ABBA blocks of 500, no network) = {spread(share, '{:.2f}')} % of a sync "
          "select")
    for spill, label in (("default", "spill above 1 MiB (default)"), ("off", "spill off")):
        ratio = [rss / rec for rss, rec in zip(f[spill + "_rss_above_base_mb"], f[spill + "_recorded_mb"])]
        print(f"(c) {label}: {DOWNLOADS} downloads of {spread(f['body_mb'], '{:.1f}')} MB recorded "
              f"({spread(f[spill + '_recorded_mb'], '{:.0f}')} MB); peak RSS above base "
              f"{spread(f[spill + '_rss_above_base_mb'], '{:.0f}')} MB = "
              f"{spread(ratio, '{:.2f}')}x the bytes recorded  target <= 1.3x")
        print(f"(d) {label}: save_har {spread(f[spill + '_har_s_per_100mb'], '{:.2f}')} s per 100 MB "
              f"of bodies (CPU {spread(f[spill + '_har_cpu_s_per_100mb'], '{:.2f}')} s), peak RSS "
              f"added {spread(f[spill + '_har_rss_mb'], '{:.0f}')} MB  target <= 1 s per 100 MB")
    for kind in ("json", "json_with_secrets", "binary"):
        print(f"(e) save_har of {kind} bodies: {spread(f[kind + '_har_s_per_100mb'], '{:.2f}')} s per "
              f"100 MB (CPU {spread(f[kind + '_har_cpu_s_per_100mb'], '{:.2f}')} s)")


def measure(target: kit.Target, n: int, block: int) -> dict[str, float]:
    recording = kit.clients(target)
    bare, abare = bare_sync(target), bare_async(target)

    def select(client: Client) -> None:
        client.table("bench_chats").select("user_id").eq("id", 7).execute()

    def sync_run(client: Client) -> Callable[[int], float]:
        def run(k: int) -> float:
            start = time.perf_counter()
            for _ in range(k):
                select(client)
            return time.perf_counter() - start
        return run

    loop = asyncio.new_event_loop()

    def async_run(client: AsyncClient) -> Callable[[int], float]:
        async def calls(k: int) -> float:
            start = time.perf_counter()
            for _ in range(k):
                await client.table("bench_chats").select("user_id").eq("id", 7).execute()
            return time.perf_counter() - start
        return lambda k: loop.run_until_complete(calls(k))

    runs = {"sync bare": sync_run(bare), "sync recording": sync_run(recording.sync),
            "async bare": async_run(abare), "async recording": async_run(recording.async_)}
    alternate(2 * block, block, runs)  # warm up connections and caches
    recording.capture.clear()
    times = alternate(n, block, runs)
    assert len(recording.capture) == 2 * (n // block) * block
    figures: dict[str, float] = {}
    for mode in ("sync", "async"):
        b, r = sum(times[f"{mode} bare"]), sum(times[f"{mode} recording"])
        figures.update({f"{mode}_bare_ms": b / n * 1e3, f"{mode}_recording_ms": r / n * 1e3,
                        f"{mode}_ratio": r / b})
    loop.close()
    recording.close()
    return figures


if __name__ == "__main__":
    main()

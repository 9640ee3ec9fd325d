"""Recording overhead: the same 1,000 selects with bare clients and with kit's recording
clients, alternating in blocks, in one run against the embedded stack.

    .venv/bin/python bench/capture.py            # prints the overhead ratio (target <= 1.03)
    .venv/bin/python bench/capture.py -n 2000 --block 50

"Bare" is a supabase Client whose injected httpx client has the same settings as kit's
(same transport class, timeout, redirects) but no recording transport, so the ratio is the
price of recording alone. Both sync and async clients are measured.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="selects per contender")
    parser.add_argument("--block", type=int, default=50, help="calls per alternation block")
    args = parser.parse_args()
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
            measure(target, args.n, args.block)
        finally:
            kit.stack.stop(folder)


def measure(target: kit.Target, n: int, block: int) -> None:
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
    print(f"{n} selects per contender, alternating blocks of {block}; "
          f"{len(recording.capture)} exchanges recorded")
    for mode in ("sync", "async"):
        b, r = sum(times[f"{mode} bare"]), sum(times[f"{mode} recording"])
        blocks = [rec / bar for rec, bar in zip(times[f"{mode} recording"], times[f"{mode} bare"])]
        print(f"{mode:5}: bare {b / n * 1e3:.3f} ms/select, recording {r / n * 1e3:.3f} ms/select,"
              f" overhead ratio {r / b:.3f} (median per block {statistics.median(blocks):.3f})"
              f"  target <= 1.03")
    loop.close()


if __name__ == "__main__":
    main()

"""Benchmark the embedded stack's storage service; prints ratios measured side by side.

    .venv/bin/python bench/stack_storage.py          # starts a stack in a temp dir

(a) throughput: a 5 MB object downloaded through the gateway (plain httpx, keep-alive, as
    storage3 reads it) vs reading the same 5 MB file from disk in this process with its pages
    dropped from the page cache first (fsync + posix_fadvise DONTNEED: a real read), and vs
    the page-cache read; plus the same download read off a bare socket, which shows how much
    of the gap is the Python HTTP client rather than the server. Upload: the 5 MB object
    POSTed (x-upsert) vs writing the same bytes to a file with fsync. Alternating, medians.
(b) latency: a 30 KB PNG uploaded (``x-upsert``) and downloaded vs the trivial route
    ``/_kit/ping`` (the floor), alternating in one loop on one connection, medians.

``measure(target)`` returns the figures as a dict for bench/stack.py to print with its own.
"""

from __future__ import annotations

import io
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from kit.targets import Target

BIG = 5 * 1024 * 1024
THROUGHPUT_ROUNDS = 15
LATENCY_ROUNDS = 200


def _png_30kb() -> bytes:
    from PIL import Image  # lazy: only the benchmark needs Pillow

    rng = random.Random(7)
    out = io.BytesIO()
    Image.frombytes("RGB", (100, 100), rng.randbytes(30_000)).save(out, format="PNG")
    return out.getvalue()


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def _raw_get(http: httpx.Client, path: str) -> int:
    """GET over a bare socket (Connection: close); returns the bytes read, headers included."""
    url = http.base_url
    with socket.create_connection((url.host, url.port or 80)) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in http.headers.items()
                       if k.lower() in ("apikey", "authorization"))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {url.host}\r\n{head}"
                     "Connection: close\r\n\r\n".encode())
        total = 0
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    return total


def measure(target: Target) -> dict[str, float]:
    """Storage throughput and latency ratios against ``target`` (needs its service_role key).

    >>> measure(kit.stack.start())["download_vs_disk_ratio"]     # doctest: +SKIP
    0.21
    """
    key = target.service_role_key or target.anon_key
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    big = random.Random(5).randbytes(BIG)
    png = _png_30kb()
    headers = {"apikey": key, "Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=target.url, headers=headers, timeout=120) as http, \
            tempfile.TemporaryDirectory() as tmp:
        http.post("/storage/v1/bucket", json={"id": bucket, "name": bucket}).raise_for_status()
        try:
            return _measure(http, bucket, big, png, Path(tmp) / "big.bin")
        finally:
            http.post(f"/storage/v1/bucket/{bucket}/empty")
            http.delete(f"/storage/v1/bucket/{bucket}")


def _measure(http: httpx.Client, bucket: str, big: bytes, png: bytes, disk_copy: Path
             ) -> dict[str, float]:
    objects = f"/storage/v1/object/{bucket}"
    http.post(f"{objects}/big.bin", content=big,
              headers={"content-type": "application/octet-stream"}).raise_for_status()
    disk_copy.write_bytes(big)

    def download_big() -> None:
        body = http.get(f"{objects}/big.bin").content
        assert len(body) == BIG

    def read_disk() -> None:
        assert len(disk_copy.read_bytes()) == BIG

    def read_disk_uncached() -> None:
        fd = os.open(disk_copy, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # the next read goes to the disk
            size = 0
            while chunk := os.read(fd, 1 << 20):
                size += len(chunk)
            assert size == BIG
        finally:
            os.close(fd)

    def write_disk() -> None:
        with open(disk_copy.with_suffix(".written"), "wb") as out:
            out.write(big)
            out.flush()
            os.fsync(out.fileno())

    def upload_big() -> None:
        http.post(f"{objects}/big-upload.bin", content=big,
                  headers={"content-type": "application/octet-stream", "x-upsert": "true"}
                  ).raise_for_status()

    def download_big_raw() -> None:
        assert _raw_get(http, f"{objects}/big.bin") > BIG

    with open(disk_copy, "rb+") as synced:
        os.fsync(synced.fileno())  # DONTNEED drops only clean pages
    gateway_s, disk_s, raw_s, uncached_s, upload_s5, write_s = [], [], [], [], [], []
    for _ in range(THROUGHPUT_ROUNDS):
        gateway_s.append(_timed(download_big))
        disk_s.append(_timed(read_disk))
        uncached_s.append(_timed(read_disk_uncached))
        raw_s.append(_timed(download_big_raw))
        upload_s5.append(_timed(upload_big))
        write_s.append(_timed(write_disk))

    upload_headers = {"content-type": "image/png", "x-upsert": "true"}

    def ping() -> None:
        http.get("/_kit/ping").raise_for_status()

    def upload() -> None:
        http.post(f"{objects}/img.png", content=png, headers=upload_headers).raise_for_status()

    def download() -> None:
        assert http.get(f"{objects}/img.png").content == png

    upload()
    ping_s, upload_s, download_s = [], [], []
    for _ in range(LATENCY_ROUNDS):
        ping_s.append(_timed(ping))
        upload_s.append(_timed(upload))
        download_s.append(_timed(download))
    mb = BIG / 1e6
    gateway_mbps = mb / statistics.median(gateway_s)
    disk_mbps = mb / statistics.median(disk_s)
    raw_mbps = mb / statistics.median(raw_s)
    ping_ms = statistics.median(ping_s) * 1e3
    upload_ms = statistics.median(upload_s) * 1e3
    download_ms = statistics.median(download_s) * 1e3
    uncached_mbps = mb / statistics.median(uncached_s)
    upload_mbps = mb / statistics.median(upload_s5)
    write_mbps = mb / statistics.median(write_s)
    return {
        "storage_download_5mb_mb_per_s": gateway_mbps,
        "storage_disk_read_5mb_uncached_mb_per_s": uncached_mbps,
        "storage_download_vs_uncached_disk_ratio": gateway_mbps / uncached_mbps,
        "storage_disk_read_5mb_mb_per_s": disk_mbps,
        "storage_download_vs_disk_ratio": gateway_mbps / disk_mbps,
        "storage_upload_5mb_mb_per_s": upload_mbps,
        "storage_disk_write_fsync_5mb_mb_per_s": write_mbps,
        "storage_upload_vs_disk_write_ratio": upload_mbps / write_mbps,
        "storage_raw_socket_5mb_mb_per_s": raw_mbps,
        "storage_raw_socket_vs_disk_ratio": raw_mbps / disk_mbps,
        "storage_ping_ms": ping_ms,
        "storage_upload_30kb_ms": upload_ms,
        "storage_download_30kb_ms": download_ms,
        "storage_upload_vs_ping_ratio": upload_ms / ping_ms,
        "storage_download_vs_ping_ratio": download_ms / ping_ms,
    }


def render(runs: list[dict[str, float]]) -> str:
    """The figures as the lines ``main`` prints: min/median/max over the runs."""
    def f(name: str, fmt: str = "{:.0f}") -> str:
        values = [run[name] for run in runs]
        return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))
    return "\n".join([
        f"figures are min/median/max over {len(runs)} runs",
        (f"5 MB download through the gateway: {f('storage_download_5mb_mb_per_s')} MB/s; "
         f"same file read from disk, page cache dropped: "
         f"{f('storage_disk_read_5mb_uncached_mb_per_s')} MB/s (ratio "
         f"{f('storage_download_vs_uncached_disk_ratio', '{:.3f}')}); from the page cache: "
         f"{f('storage_disk_read_5mb_mb_per_s')} MB/s (ratio "
         f"{f('storage_download_vs_disk_ratio', '{:.3f}')})"),
        (f"5 MB upload through the gateway: {f('storage_upload_5mb_mb_per_s')} MB/s; same bytes "
         f"written to a file with fsync: {f('storage_disk_write_fsync_5mb_mb_per_s')} MB/s (ratio "
         f"{f('storage_upload_vs_disk_write_ratio', '{:.3f}')})"),
        (f"same download read off a bare socket (no HTTP client parsing): "
         f"{f('storage_raw_socket_5mb_mb_per_s')} MB/s, ratio to the page-cache read "
         f"{f('storage_raw_socket_vs_disk_ratio', '{:.3f}')}"),
        (f"30 KB image upload {f('storage_upload_30kb_ms', '{:.2f}')} ms, download "
         f"{f('storage_download_30kb_ms', '{:.2f}')} ms, /_kit/ping floor "
         f"{f('storage_ping_ms', '{:.2f}')} ms (medians of {LATENCY_ROUNDS}, alternating)"),
        (f"upload/ping {f('storage_upload_vs_ping_ratio', '{:.1f}')}x, "
         f"download/ping {f('storage_download_vs_ping_ratio', '{:.1f}')}x"),
    ])


def main() -> int:
    import argparse

    import kit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repeat; min/median/max")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kit-bench-storage-") as tmp:
        Path(tmp).chmod(0o755)  # pgserver runs PostgreSQL as its own user when we are root
        folder = Path(tmp) / ".kit" / "stack"
        target = kit.stack.start(folder)
        try:
            print(render([measure(target) for _ in range(args.runs)]))
        finally:
            kit.stack.stop(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())

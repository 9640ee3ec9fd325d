"""Benchmark the embedded stack's Auth: sign-in latency over a REST select, measured side by side.

    .venv/bin/python bench/auth.py             # fresh temp data dir, 300 rounds
    .venv/bin/python bench/auth.py -n 100

- sign-in: ``POST /auth/v1/token?grant_type=password`` (the request supabase-py's
  ``sign_in_with_password`` sends: bcrypt check, a new session and refresh token, a signed
  JWT) vs ``GET /rest/v1/<table>?select=*&id=eq.<n>`` as that user, alternating on one
  keep-alive connection, median over median          target <= 3 (stack default: bcrypt cost 4)
- the same with a user whose stored hash has bcrypt cost 10 (hosted Supabase's cost), for
  comparison: the stack verifies any cost, so this is what imported users cost
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import psycopg
from supabase import create_client

import kit
from kit.targets import Target

PASSWORD = "bench-secret-pass"
TARGETS = {"sign_in_vs_rest_select_ratio": 3.0}


def alternate(first: Callable[[int], object], second: Callable[[int], object], rounds: int,
              warmup: int = 30) -> tuple[float, float]:
    """Median seconds of ``first`` and ``second``, called alternately."""
    a, b = [], []
    for i in range(rounds + warmup):
        start = time.perf_counter()
        first(i)
        middle = time.perf_counter()
        second(i)
        end = time.perf_counter()
        if i >= warmup:
            a.append(middle - start)
            b.append(end - middle)
    return statistics.median(a), statistics.median(b)


def prepare(target: Target) -> tuple[str, str, str]:
    """A table readable by signed-in users, a user with the stack's hash cost and one with cost 10."""
    assert target.database_url
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_notes (id int PRIMARY KEY, body text); "
                     "TRUNCATE bench_notes; INSERT INTO bench_notes SELECT i, 'note ' || i "
                     "FROM generate_series(1, 1000) i; ALTER TABLE bench_notes ENABLE ROW LEVEL SECURITY; "
                     "DROP POLICY IF EXISTS readers ON bench_notes; "
                     "CREATE POLICY readers ON bench_notes FOR SELECT TO authenticated USING (true)")
    admin = create_client(target.url, target.service_role_key or "").auth.admin
    fast, slow = (f"{name}-{uuid.uuid4().hex[:6]}@example.com" for name in ("fast", "slow"))
    admin.create_user({"email": fast, "password": PASSWORD, "email_confirm": True})
    cost10 = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()
    admin.create_user({"email": slow, "password_hash": cost10, "email_confirm": True})
    return "bench_notes", fast, slow


def http_figures(target: Target, table: str, email: str, rounds: int) -> tuple[float, float]:
    headers = {"apikey": target.anon_key, "X-Supabase-Api-Version": "2024-01-01"}
    with httpx.Client(base_url=target.url, timeout=30, headers=headers) as http:
        token = http.post("/auth/v1/token?grant_type=password",
                          json={"email": email, "password": PASSWORD}).json()["access_token"]
        user = {"Authorization": f"Bearer {token}"}

        def sign_in(i: int) -> None:
            answer = http.post("/auth/v1/token?grant_type=password",
                               json={"email": email, "password": PASSWORD})
            if answer.status_code != 200:
                raise SystemExit(f"sign-in failed: {answer.status_code} {answer.text[:200]}")

        def select(i: int) -> None:
            answer = http.get(f"/rest/v1/{table}?select=*&id=eq.{i % 1000 + 1}", headers=user)
            if answer.status_code != 200 or len(answer.json()) != 1:
                raise SystemExit(f"select failed: {answer.status_code} {answer.text[:200]}")

        return alternate(sign_in, select, rounds)


def measure(target: Target, rounds: int) -> dict[str, float]:
    table, fast, slow = prepare(target)
    sign_in, select = http_figures(target, table, fast, rounds)
    slow_sign_in, slow_select = http_figures(target, table, slow, max(20, rounds // 5))
    return {"sign_in_median_ms": sign_in * 1000, "rest_select_median_ms": select * 1000,
            "sign_in_vs_rest_select_ratio": sign_in / select,
            "cost10_sign_in_median_ms": slow_sign_in * 1000,
            "cost10_sign_in_vs_rest_select_ratio": slow_sign_in / slow_select}


def _bench_stack() -> Any:
    """bench/stack.py as a module: its rendering and its fresh data directory."""
    spec = importlib.util.spec_from_file_location("bench_stack", Path(__file__).with_name("stack.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    bench_stack = _bench_stack()
    with bench_stack.fresh_stack_dir("kit-bench-auth-") as folder:
        figures = measure(kit.stack.start(folder), args.rounds)
    print(bench_stack.render(figures, TARGETS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

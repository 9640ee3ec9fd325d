"""Two figures of the "point it at my project" journey, measured in one run.

    .venv/bin/python bench/targets.py [--runs 5]

(a) wrong key → one line: wall time of `python -m kit report --profile local` when
    SERVICE_ROLE_KEY holds a key the stack rejects, until it exits 3 with its one line (the
    target is checked before any kernel starts). Floor: `python -c "import kit"` in the same
    interpreter; the ratio is the runner's own cost of saying it. The issue asks for < 5 s.
(b) rows left behind by `kit.diff` of an insert at concurrency 4 on the embedded stack (all
    six modes, 20 inserts sent), counted in PostgreSQL afterwards. The goal is 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jwt
import psycopg

import kit


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kit-bench-targets-") as tmp:
        target = kit.stack.start(Path(tmp) / ".kit" / "stack")
        try:
            wrong = jwt.encode({"role": "service_role"}, "another-project-" + "s" * 24, algorithm="HS256")
            env = {**os.environ, "API_URL": target.url, "SERVICE_ROLE_KEY": wrong}
            report, floor, line = [], [], ""
            for _ in range(args.runs):
                seconds, done = timed([sys.executable, "-m", "kit", "report", "--profile", "local",
                                       "--out", str(Path(tmp) / "reports")], env, tmp)
                assert done.returncode == 3, done.stderr
                report.append(seconds)
                line = done.stderr.strip()
                floor.append(timed([sys.executable, "-c", "import kit"], env, tmp)[0])
            a, b = statistics.median(report), statistics.median(floor)
            print(f"(a) wrong key -> exit 3 in {a:.2f} s (median of {args.runs}); "
                  f"`import kit` {b:.2f} s; ratio {a / b:.1f}x")
            print(f"    {line.replace(wrong, '<key>')}")

            table = "bench_todos"
            with psycopg.connect(target.database_url, autocommit=True) as conn:
                conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, title text, "
                             "at timestamptz DEFAULT now())")
                conn.execute("NOTIFY pgrst, 'reload schema'")
                report_ = kit.diff(lambda c: c.table(table).insert({"title": "t"}).execute(),
                                   target=target, concurrency=4)
                sent = sum(len(row.writes) for row in report_)
                left = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            print(f"(b) diff of an insert at concurrency 4 on embedded: {sent} inserts sent, "
                  f"{left} rows left; modes equal: "
                  f"{all(r.equal_to_baseline is not False for r in report_ if r.outcome == 'value')}")
        finally:
            kit.stack.stop(Path(tmp) / ".kit" / "stack")


if __name__ == "__main__":
    main()

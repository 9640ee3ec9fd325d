"""Bench the static scanner: accuracy on the labelled corpus, throughput on a real tree.

    .venv/bin/python bench/scan.py                 # both parts, full tree: flake8-async needs
                                                   # over 30 CPU-minutes on its 1590 files
    .venv/bin/python bench/scan.py --sample 10     # throughput on every 10th file of the tree
    .venv/bin/python bench/scan.py --no-throughput

Accuracy: for each tool (kit scan, `ruff --select ASYNC`, mypy), a labelled bug counts as
detected if the tool reports anything on its line; a false positive is a reported line that
carries no label. mypy runs with --check-untyped-defs and --ignore-missing-imports (the most
it can see); it does not read notebooks, ruff does.

Throughput: `python -m kit scan` and `flake8-async` as subprocesses on the same file list
(installed supabase family, httpx, stdlib asyncio, pandas), timed side by side in one run:
wall time and CPU time (the machine may be shared; CPU time is the steadier figure).
"kit scan --no-prefilter" parses every file, as flake8-async does (it parses each file twice:
ast and libcst).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from kit.scan import scan
from kit.scan.labels import read_labels

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "scan_corpus"
BIN = Path(sys.executable).parent
Line = tuple[str, "int | None", int]  # (file name, cell, line)


def corpus_labels() -> tuple[dict[Line, set[str]], list[Path]]:
    # variant_ignore.py tests `# kit: ignore` (bugs silenced on purpose): not a detection case
    files = sorted(p for p in CORPUS.iterdir() if p.suffix in (".py", ".ipynb")
                   and not p.name.startswith("variant_ignore"))
    labelled: dict[Line, set[str]] = defaultdict(set)
    for path in files:
        for cell, line, code, _ in read_labels(path)[0]:
            labelled[(path.name, cell, line)].add(code)
    return labelled, files


def kit_lines(files: list[Path]) -> set[Line]:
    return {(Path(f.path).name, f.cell, f.line) for f in scan(*files)}


def ruff_lines(files: list[Path]) -> set[Line]:
    out = subprocess.run([str(BIN / "ruff"), "check", "--select", "ASYNC", "--output-format",
                          "json", "--no-cache", "--isolated", "--exit-zero", *map(str, files)],
                         capture_output=True, text=True, check=True).stdout
    return {(Path(d["filename"]).name, d.get("cell"), d["location"]["row"]) for d in json.loads(out)}


def mypy_lines(files: list[Path]) -> set[Line]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "mypy.ini")
        config.write_text("[mypy]\n")
        done = subprocess.run(
            [str(BIN / "mypy"), "--config-file", str(config), "--cache-dir", os.devnull,
             "--no-incremental", "--ignore-missing-imports", "--check-untyped-defs",
             "--no-error-summary", "--no-pretty", "--show-error-codes",
             *[p.name for p in files if p.suffix == ".py"]],
            capture_output=True, text=True, cwd=CORPUS, check=False)
    pattern = re.compile(r"^([^:]+\.py):(\d+): error:")
    return {(Path(m[1]).name, None, int(m[2]))
            for m in map(pattern.match, done.stdout.splitlines()) if m}


def accuracy_table(labelled: dict[Line, set[str]], reported: dict[str, set[Line]]) -> str:
    codes = sorted({c for cs in labelled.values() for c in cs})
    head = f"{'tool':<22}{'detected':>12}{'recall':>9}{'false pos.':>12}   " + " ".join(
        f"{c:>7}" for c in codes)
    rows = [head, "-" * len(head)]
    for tool, lines in reported.items():
        hit = [line for line in labelled if line in lines]
        per_code = []
        for code in codes:
            wanted = [line for line, cs in labelled.items() if code in cs]
            got = sum(1 for line in wanted if line in lines)
            per_code.append(f"{got:>3}/{len(wanted):<3}")
        rows.append(f"{tool:<22}{len(hit):>5}/{len(labelled):<6}{len(hit) / len(labelled):>9.0%}"
                    f"{len(lines - set(labelled)):>12}   " + " ".join(per_code))
    return "\n".join(rows)


def real_tree(sample: int) -> list[str]:
    packages = Path(__import__("supabase").__file__).parents[1]
    roots = [packages / name for name in ("supabase", "postgrest", "storage3", "supabase_auth",
                                          "supabase_functions", "realtime", "httpx", "pandas")]
    roots.append(Path(asyncio.__file__).parent)
    files = sorted(str(p) for root in roots for p in root.rglob("*.py")
                   if "__pycache__" not in p.parts)
    return files[::sample]


def timed(command: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def throughput(files: list[str]) -> str:
    runs = {
        "kit scan": timed([sys.executable, "-m", "kit", "scan", "--format", "json", *files]),
        "kit scan --no-prefilter": timed(
            [sys.executable, "-m", "kit", "scan", "--no-prefilter", "--format", "json", *files]),
        "flake8-async": timed([str(BIN / "flake8-async"), *files]),
    }
    base_wall, base_cpu = runs["flake8-async"]
    head = (f"{'tool':<26}{'wall s':>9}{'files/s':>10}{'cpu s':>9}{'files/cpu-s':>13}"
            f"{'ratio (wall)':>14}{'ratio (cpu)':>13}")
    rows = [head]
    for tool, (wall, cpu) in runs.items():
        rows.append(f"{tool:<26}{wall:>9.1f}{len(files) / wall:>10.1f}{cpu:>9.1f}"
                    f"{len(files) / cpu:>13.1f}{base_wall / wall:>14.1f}{base_cpu / cpu:>13.1f}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=1, help="use every K-th file of the tree")
    parser.add_argument("--no-throughput", action="store_true", help="accuracy only")
    args = parser.parse_args()
    labelled, files = corpus_labels()
    reported = {"kit scan": kit_lines(files), "ruff --select ASYNC": ruff_lines(files),
                "mypy": mypy_lines(files)}
    print(f"Corpus: {len(files)} files, {len(labelled)} labelled bug lines "
          f"(a tool detects a bug if it reports anything on its line)\n")
    print(accuracy_table(labelled, reported))
    if not args.no_throughput:
        tree = real_tree(args.sample)
        print(f"\nThroughput on {len(tree)} files (supabase family, httpx, asyncio, pandas"
              f"{f', every {args.sample}th file' if args.sample > 1 else ''}); "
              "ratio = flake8-async time / tool time\n")
        print(throughput(tree))


if __name__ == "__main__":
    main()

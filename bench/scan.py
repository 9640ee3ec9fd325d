"""Bench the static scanner: accuracy per kind on the labelled corpus, throughput and peak
memory beside ruff and flake8-async. Finishes in under 5 minutes on 2 busy cores.

    .venv/bin/pip install -e '.[bench]'          # once: ruff, mypy, flake8-async
    .venv/bin/python bench/scan.py
    .venv/bin/python bench/scan.py --no-throughput          # accuracy only (about 30 s)
    .venv/bin/python bench/scan.py --flake8-every 20        # a larger flake8-async sample

Accuracy: for each tool (kit scan, `ruff --select ASYNC`, mypy), a labelled bug counts as
detected if the tool reports anything on its line; a false positive is a reported line that
carries no label. Kinds are the corpus file name prefixes (helper_, param_, appstate_, ...);
``heldout_<kind>_*`` files were written after the rules and are shown as their own rows.
mypy runs with --check-untyped-defs and --ignore-missing-imports (the most it can see); it does
not read notebooks, ruff does.

Throughput: `python -m kit scan`, `ruff check --select ASYNC` and `flake8-async` as
subprocesses on the same files (the installed supabase family, httpx, stdlib asyncio, pandas),
each timed by GNU time (/usr/bin/time, Debian package `time`): wall time, CPU time (the machine may be shared: CPU time is the
steadier figure) and peak resident memory. flake8-async needs about a CPU-second per file, so
the three are compared on every ``--flake8-every``-th file; kit scan's peak memory is also
measured on a tree of more than 100k lines. "kit scan --no-prefilter" parses every file, as
flake8-async does (which parses each file twice: ast and libcst).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from kit.scan import scan
from kit.scan.labels import read_labels

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "scan_corpus"
BIN = Path(sys.executable).parent
GNU_TIME = "/usr/bin/time"  # Debian package `time`
Line = tuple[str, "int | None", int]  # (path below the corpus, cell, line)


def corpus_labels() -> tuple[dict[Line, set[str]], list[Path]]:
    # variant_ignore.py tests `# kit: ignore` (bugs silenced on purpose): not a detection case
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".py", ".ipynb")
                   and not p.name.startswith("variant_ignore"))
    labelled: dict[Line, set[str]] = defaultdict(set)
    for path in files:
        for cell, line, code, _ in read_labels(path)[0]:
            labelled[(rel(path), cell, line)].add(code)
    return labelled, files


def kit_lines(files: list[Path]) -> set[Line]:
    return {(rel(f.path), f.cell, f.line) for f in scan(*files)}


def ruff_lines(files: list[Path]) -> set[Line]:
    out = subprocess.run([str(BIN / "ruff"), "check", "--select", "ASYNC", "--output-format",
                          "json", "--no-cache", "--isolated", "--exit-zero", *map(str, files)],
                         capture_output=True, text=True, check=True).stdout
    return {(rel(d["filename"]), d.get("cell"), d["location"]["row"]) for d in json.loads(out)}


def mypy_lines(files: list[Path]) -> set[Line]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "mypy.ini")
        config.write_text("[mypy]\n")
        done = subprocess.run(
            [str(BIN / "mypy"), "--config-file", str(config), "--cache-dir", os.devnull,
             "--no-incremental", "--ignore-missing-imports", "--check-untyped-defs",
             "--no-error-summary", "--no-pretty", "--show-error-codes",
             *[rel(p) for p in files if p.suffix == ".py"]],
            capture_output=True, text=True, cwd=CORPUS, check=False)
    pattern = re.compile(r"^([^:]+\.py):(\d+): error:")
    return {(rel(CORPUS / m[1]), None, int(m[2]))
            for m in map(pattern.match, done.stdout.splitlines()) if m}


def rel(path: str | Path) -> str:
    return Path(path).resolve().relative_to(CORPUS).as_posix()


def kind_of(name: str) -> str:
    head, _, rest = name.split("/", 1)[0].partition("_")
    if head.startswith("heldout"):
        return f"{rest.partition('_')[0]} (held out, {head})"
    return head


def accuracy_table(labelled: dict[Line, set[str]], reported: dict[str, set[Line]],
                   files: list[Path]) -> str:
    kinds = sorted({kind_of(rel(p)) for p in files}, key=lambda k: ("held out" in k, k.split(" (")[-1], k))
    tools = list(reported)
    head = f"{'kind':<36}{'files':>6}{'bugs':>6}" + "".join(f"{t[:21]:>22}" for t in tools)
    rows = [head, f"{'':<48}" + "".join(f"{'found  recall  FP':>22}" for _ in tools), "-" * len(head)]

    def row(name: str, wanted_files: set[str]) -> str:
        bugs = [line for line in labelled if line[0] in wanted_files]
        cells = []
        for tool in tools:
            lines = {line for line in reported[tool] if line[0] in wanted_files}
            hit = sum(1 for line in bugs if line in lines)
            recall = f"{hit / len(bugs):.0%}" if bugs else "-"
            cells.append(f"{hit:>10}{recall:>8}{len(lines - set(labelled)):>4}")
        return f"{name:<36}{len(wanted_files):>6}{len(bugs):>6}" + "".join(cells)

    for kind in kinds:
        rows.append(row(kind, {rel(p) for p in files if kind_of(rel(p)) == kind}))
    rows.append("-" * len(head))
    rows.append(row("all", {rel(p) for p in files}))
    return "\n".join(rows)


def real_tree(sample: int) -> list[str]:
    packages = Path(__import__("supabase").__file__).parents[1]
    roots = [packages / name for name in ("supabase", "postgrest", "storage3", "supabase_auth",
                                          "supabase_functions", "realtime", "httpx", "pandas")]
    roots.append(Path(asyncio.__file__).parent)
    files = sorted(str(p) for root in roots for p in root.rglob("*.py")
                   if "__pycache__" not in p.parts)
    return files[::sample]


def measured(command: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak resident MiB) of one command, as GNU time reports them.

    Not os.wait4 on our own child: a child forked (or vforked) from this process counts this
    process's memory in its peak; GNU time forks the command from its own small image."""
    if not Path(command[0]).exists():
        raise SystemExit(f"bench/scan.py: {command[0]} is not installed: "
                         ".venv/bin/pip install -e '.[bench]' (ruff, mypy, flake8-async)")
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        done = subprocess.run([GNU_TIME, "-f", "%e %U %S %M", "-o", out.name, *command],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        if done.returncode not in (0, 1):  # 1: findings (kit scan, flake8-async)
            last = (done.stderr.strip().splitlines() or ["no error output"])[-1]
            raise SystemExit(f"bench/scan.py: {Path(command[0]).name} exited {done.returncode}: {last}")
        wall, user, system, peak_kib = out.read().split()[-4:]
    return float(wall), float(user) + float(system), int(peak_kib) / 1024


def line_count(files: list[str]) -> int:
    return sum(Path(f).read_bytes().count(b"\n") for f in files)


KIT = [sys.executable, "-m", "kit", "scan", "--format", "json"]


def throughput(files: list[str]) -> str:
    runs = {
        "kit scan": measured([*KIT, *files]),
        "kit scan --no-prefilter": measured([*KIT, "--no-prefilter", *files]),
        "ruff --select ASYNC": measured([str(BIN / "ruff"), "check", "--select", "ASYNC",
                                         "--no-cache", "--isolated", "--exit-zero", *files]),
        "flake8-async": measured([str(BIN / "flake8-async"), *files]),
    }
    base_wall, base_cpu, _ = runs["flake8-async"]
    head = (f"{'tool':<26}{'wall s':>9}{'cpu s':>9}{'files/cpu-s':>13}{'peak MiB':>10}"
            f"{'x faster (wall)':>17}{'x faster (cpu)':>16}")
    rows = [head]
    for tool, (wall, cpu, peak) in runs.items():
        # GNU time counts in 10 ms: a tool faster than that reads 0.00; its figures are then
        # bounds, computed with 10 ms and marked ">"
        low_wall, low_cpu = wall < TIME_RESOLUTION_S, cpu < TIME_RESOLUTION_S
        wall, cpu = max(wall, TIME_RESOLUTION_S), max(cpu, TIME_RESOLUTION_S)
        rows.append(f"{tool:<26}{wall:>9.2f}{cpu:>9.2f}{_bound(len(files) / cpu, low_cpu):>13}"
                    f"{peak:>10.0f}{_bound(base_wall / wall, low_wall):>17}{_bound(base_cpu / cpu, low_cpu):>16}")
    return "\n".join(rows)


TIME_RESOLUTION_S = 0.01  # GNU time's %e, %U and %S


def _bound(value: float, lower_bound: bool) -> str:
    return f"{'>' if lower_bound else ''}{value:.1f}"


def memory(files: list[str]) -> str:
    rows = [f"{'tool':<26}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}{'peak / 1 GiB':>14}"]
    for tool, command in (("kit scan", KIT), ("kit scan --no-prefilter", [*KIT, "--no-prefilter"])):
        wall, cpu, peak = measured([*command, *files])
        rows.append(f"{tool:<26}{wall:>9.1f}{cpu:>9.2f}{peak:>10.0f}{peak / 1024:>14.0%}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flake8-every", type=int, default=40,
                        help="compare speed on every K-th file of the tree (flake8-async is slow)")
    parser.add_argument("--no-throughput", action="store_true", help="accuracy only")
    args = parser.parse_args()
    labelled, files = corpus_labels()
    reported = {"kit scan": kit_lines(files), "ruff --select ASYNC": ruff_lines(files),
                "mypy": mypy_lines(files)}
    print(f"Corpus: {len(files)} files, {len(labelled)} labelled bug lines "
          f"(a tool detects a bug if it reports anything on its line; FP = lines reported "
          "without a label)\n")
    print(accuracy_table(labelled, reported, files))
    if args.no_throughput:
        return
    tree = real_tree(1)
    sample = tree[::args.flake8_every]
    print(f"\nSpeed on {len(sample)} files, {line_count(sample):,} lines (every "
          f"{args.flake8_every}th file of the supabase family, httpx, asyncio, pandas); "
          "x faster = flake8-async time / tool time\n")
    print(throughput(sample))
    big = tree[::7]
    print(f"\nPeak memory of kit scan on {len(big)} files, {line_count(big):,} lines "
          "(every 7th file of the same tree)\n")
    print(memory(big))


if __name__ == "__main__":
    main()

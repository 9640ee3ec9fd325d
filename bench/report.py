"""Benchmark the report runner against its floor; each figure is min/median/max of N runs.

    .venv/bin/python bench/report.py                    # notebooks/*.ipynb, jobs 2, 3 runs
    .venv/bin/python bench/report.py --jobs 2 --runs 1 --only 00_start_here 04_diff_your_own_call

Each configuration starts its own fresh embedded stack (a new data directory), so every
wall time below includes one stack start, as `make report` on a fresh machine does.

(a) report: `kit report` on the profile's N notebooks with J jobs (execution, scrubbing,
    HTML pages, index, JUnit, summary).
(b) floor: stack start + bare papermill executing N *empty* notebooks, J at a time (one
    in-process thread per job, the kernel from the kit's kernelspec). Ratio a/b is the
    issue's figure; target <= 1.5. It includes the notebooks' own work, which the runner
    cannot remove.
(c) same-work floor: stack start + bare papermill on the same N notebooks, J at a time,
    no pages or scrubbing. Ratio a/c and the difference a - c (seconds) are the runner's
    own overhead on real notebooks.
(d) empty report: `kit report` on the N empty notebooks. Ratio d/b is the runner's
    overhead where it is largest, on notebooks that do nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

import kit
from kit.report.profiles import NotebookSpec, Profile, load_profile, select_notebooks
from kit.report.progress import QuietProgress
from kit.report.run import kernel_environment, run_report
from kit.report.runner import ensure_kernelspec


def empty_notebooks(folder: Path, count: int) -> list[NotebookSpec]:
    specs = []
    for index in range(count):
        nb = new_notebook(cells=[new_code_cell('target = "embedded"', metadata={"tags": ["parameters"]}),
                                 new_code_cell("")])
        nb.metadata["kernelspec"] = {"name": "kit", "display_name": "kit", "language": "python"}
        path = folder / f"empty_{index:02d}.ipynb"
        nbformat.write(nb, str(path))
        specs.append(NotebookSpec(path))
    return specs


def bare_papermill(profile: Profile, specs: list[NotebookSpec], jobs: int, stack_dir: Path,
                   out: Path) -> tuple[float, int]:
    """Stack start + papermill alone, ``jobs`` at a time: (wall seconds, notebooks that raised)."""
    import papermill

    started = time.monotonic()
    kernel = kernel_environment(profile, stack_dir=stack_dir)
    os.environ.update(kernel.env)  # bare papermill: kernels inherit this process's environment
    name = ensure_kernelspec()
    out.mkdir(parents=True, exist_ok=True)

    def run(spec: NotebookSpec) -> int:
        try:
            papermill.execute_notebook(str(spec.path), str(out / spec.path.name), kernel_name=name,
                                       parameters={**profile.target_parameters(), **spec.parameters},
                                       progress_bar=False, cwd=str(spec.path.parent))
        except papermill.PapermillExecutionError:
            return 1  # a failing scenario still counts (the report runs it too), but is shown
        return 0

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        raised = sum(pool.map(run, specs))
    return time.monotonic() - started, raised


def report(profile: Profile, jobs: int, only: list[str] | None, stack_dir: Path,
           out: Path) -> tuple[float, int]:
    """The whole report: (wall seconds, notebooks that did not execute)."""
    started = time.monotonic()
    outcome = run_report(profile, only=only, jobs=jobs, out=out, stack_dir=stack_dir,
                         progress=QuietProgress(io.StringIO(), 0))
    return time.monotonic() - started, len(outcome.summary.not_executed)


def one_run(profile: Profile, specs: list[NotebookSpec], jobs: int, only: list[str] | None
            ) -> tuple[dict[str, float], dict[str, int]]:
    with tempfile.TemporaryDirectory(prefix="kit-bench-report-") as tmp:
        root = Path(tmp)
        empties = empty_notebooks(root, len(specs))
        empty_profile = Profile(name="empty", notebooks=tuple(empties), timeout=profile.timeout)
        stacks = [root / f"stack_{name}" / ".kit" / "stack" for name in "abcd"]
        figures: dict[str, float] = {}
        failed: dict[str, int] = {}
        try:
            figures["b"], failed["b"] = bare_papermill(profile, empties, jobs, stacks[1], root / "b")
            figures["a"], failed["a"] = report(profile, jobs, only, stacks[0], root / "a")
            figures["c"], failed["c"] = bare_papermill(profile, specs, jobs, stacks[2], root / "c")
            figures["d"], failed["d"] = report(empty_profile, jobs, None, stacks[3], root / "d")
        finally:
            for stack_dir in stacks:
                kit.stack.stop(stack_dir)
    figures.update({"a/b": figures["a"] / figures["b"], "a/c": figures["a"] / figures["c"],
                    "a-c": figures["a"] - figures["c"], "d/b": figures["d"] / figures["b"]})
    return figures, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="embedded")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="+")
    parser.add_argument("--runs", type=int, default=3, help="repeat; min/median/max")
    args = parser.parse_args(argv)
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # as the workers do
    profile = load_profile(args.profile)
    specs = select_notebooks(profile, args.only)
    runs = [one_run(profile, specs, args.jobs, args.only) for _ in range(args.runs)]

    def spread(key: str, fmt: str) -> str:
        values = [figures[key] for figures, _ in runs]
        return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))

    n, j = len(specs), args.jobs
    print(f"notebooks: {n} ({', '.join(s.name for s in specs)}), jobs {j}; each line includes one "
          f"fresh stack start; min/median/max over {args.runs} runs")
    labels = {"a": "kit report, real notebooks", "b": "floor: papermill, empty notebooks",
              "c": "papermill alone, real notebooks", "d": "kit report, empty notebooks"}
    for key, label in labels.items():
        failed = max(f[key] for _, f in runs)
        print(f"({key}) {label:38} {spread(key, '{:.1f}')} s   (up to {failed} did not execute)")
    print(f"a/b = {spread('a/b', '{:.2f}')}   (issue's figure, target <= 1.5)")
    print(f"a/c = {spread('a/c', '{:.2f}')}, a - c = {spread('a-c', '{:.1f}')} s   "
          "(the runner's own overhead against papermill on the same notebooks)")
    print(f"d/b = {spread('d/b', '{:.2f}')}   (runner overhead on empty notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

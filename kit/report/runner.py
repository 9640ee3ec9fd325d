"""Execute notebooks with papermill, several at once, each in its own worker process.

    results = run_notebooks(jobs, parallel=2, timeout=600, env=kernel_env,
                            secret_envs=["SUPABASE_SERVICE_ROLE_KEY"], progress=progress)

Each of the ``parallel`` slots keeps a worker process that runs its notebooks one after
another, each in a fresh kernel. A notebook gets ``timeout`` seconds in all (nbclient
stops the cell that crosses it); a worker that still has not answered ``watchdog_grace``
seconds later is killed with its kernel, reported as timed out (never left hanging), and
replaced for the next notebook.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.report.results import RUNNER_CRASHED, TIMED_OUT, NotebookResult

KERNEL_NAME = "kit"
WORKER = (sys.executable, str(Path(__file__).with_name("worker.py")), "--serve")


@dataclass(frozen=True)
class NotebookJob:
    """A notebook to execute, its parameters, and where its scrubbed files go."""

    name: str
    source: Path
    parameters: dict[str, Any]
    ipynb: Path
    html: Path
    shown_parameters: dict[str, Any] = field(default_factory=dict)  # secrets stripped


def ensure_kernelspec(name: str = KERNEL_NAME, prefix: str = sys.prefix) -> str:
    """Install (once) a kernelspec ``name`` that runs this interpreter; return its name.

    >>> ensure_kernelspec()      # doctest: +SKIP
    'kit'
    """
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / name
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({name})", "language": "python",
            "metadata": {"debugger": True}}
    current = folder / "kernel.json"
    try:
        if json.loads(current.read_text()).get("argv") == spec["argv"]:
            return name
    except (FileNotFoundError, ValueError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    tmp = current.with_suffix(".tmp")
    tmp.write_text(json.dumps(spec, indent=1))
    os.replace(tmp, current)
    return name


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _descendants(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        for child in _children(todo.pop()):
            if child not in seen:
                seen.append(child)
                todo.append(child)
    return seen


def _kill_tree(proc: subprocess.Popen[str], grace: float = 3.0) -> None:
    """Stop a worker and everything it started (its kernel runs in its own session)."""
    family = _descendants(proc.pid)
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    for pid in [proc.pid, *family, *_descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return ""
    return " | ".join(text[-lines:])


class _Slot:
    """One of the ``parallel`` places a notebook runs: a worker process that serves one
    notebook after another (imports paid once), replaced when it dies or is killed."""

    def __init__(self, index: int, root: Path, *, env: Mapping[str, str],
                 worker_argv: Sequence[str]) -> None:
        self.env, self.worker_argv = env, worker_argv
        self.stderr_path = root / f"worker-{index}.stderr"
        self.proc: subprocess.Popen[str] | None = None
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def _spawn(self) -> subprocess.Popen[str]:
        self.events = queue.Queue()
        with open(self.stderr_path, "a") as stderr:
            proc = subprocess.Popen(list(self.worker_argv), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=stderr, text=True,
                                    env=dict(self.env), start_new_session=True)
        threading.Thread(target=self._read, args=(proc.stdout, self.events), daemon=True).start()
        return proc

    @staticmethod
    def _read(stream: Any, events: queue.Queue[dict[str, Any] | None]) -> None:
        for line in stream:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a kernel's stray output; not ours
            if isinstance(event, dict):
                events.put(event)
        events.put(None)  # the worker exited

    def send(self, spec_path: Path) -> None:
        for attempt in (1, 2):
            if self.proc is None or self.proc.poll() is not None:
                self.proc = self._spawn()
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(f"{spec_path}\n")
                self.proc.stdin.flush()
                return
            except BrokenPipeError:
                self.proc = None  # it died between notebooks: start another once
                if attempt == 2:
                    raise

    def kill(self) -> None:
        if self.proc is not None:
            _kill_tree(self.proc)
            self.proc = None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the worker exits at end of input
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class _Run:
    """One notebook on a slot, watched by a wall-clock deadline."""

    def __init__(self, job: NotebookJob, workdir: Path, slot: _Slot, *, timeout: float,
                 grace: float, env: Mapping[str, str], secret_envs: Sequence[str],
                 kernel_name: str, progress: Any) -> None:
        self.job, self.workdir, self.slot = job, workdir, slot
        self.timeout, self.grace, self.env, self.progress = timeout, grace, env, progress
        self.last_cell = (0, 0)
        self.spec: dict[str, Any] = {
            "input": str(job.source), "raw_output": str(workdir / "raw.ipynb"),
            "ipynb": str(job.ipynb), "html": str(job.html), "parameters": job.parameters,
            "kernel_name": kernel_name, "timeout": timeout, "cwd": str(job.source.parent),
            "secret_envs": list(secret_envs), "result": str(workdir / "result.json")}

    def run(self) -> NotebookResult:
        spec_path = self.workdir / "spec.json"
        spec_path.write_text(json.dumps(self.spec))
        started = time.monotonic()
        deadline = started + self.timeout + self.grace
        self.progress.started(self.job.name)
        self.slot.send(spec_path)
        outcome = "killed"
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.slot.events.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                outcome = "exited"
                break
            if event.get("done") == self.spec["result"]:
                outcome = "answered"
                break
            if "cell" in event:
                self.last_cell = (int(event["cell"]), int(event["cells"]))
                self.progress.advanced(self.job.name, *self.last_cell)
        returncode = 0
        if outcome == "killed":
            self.slot.kill()
        elif outcome == "exited" and self.slot.proc is not None:
            returncode = self.slot.proc.wait()
            self.slot.proc = None
        result = self._result(outcome, returncode, time.monotonic() - started)
        self.progress.finished(result)
        return result

    def _known_secrets(self) -> list[str]:
        from kit.report.scrub import secret_parameter_values

        known = [self.env.get(name, "") for name in self.spec["secret_envs"]]
        return known + secret_parameter_values(self.job.parameters)

    def _result(self, outcome: str, returncode: int, duration: float) -> NotebookResult:
        from kit.checks import Check

        base: dict[str, Any] = {"name": self.job.name, "duration_s": duration,
                                "parameters": self.job.shown_parameters}
        answer = self.workdir / "result.json"
        if outcome == "answered" and answer.exists():
            data = json.loads(answer.read_text())
            return NotebookResult(status=data["status"], error=data["error"],
                                  scenario=data["scenario"],
                                  checks=[Check.from_dict(c) for c in data["checks"]],
                                  files=self._files(), **base)
        scenario, checks = self._salvage()
        cell, cells = self.last_cell
        where = f" (at cell {cell}/{cells})" if cells else ""
        if outcome == "killed":
            return NotebookResult(status=TIMED_OUT, error=f"no answer {self.timeout + self.grace:g} s"
                                  f" after start{where}; the runner killed it and its kernel",
                                  scenario=scenario, checks=checks, files=self._files(), **base)
        from kit.report.scrub import scrub_text

        detail = scrub_text(_tail(self.slot.stderr_path), self._known_secrets())
        return NotebookResult(status=RUNNER_CRASHED, error=f"the worker exited with code "
                              f"{returncode}{where}" + (f": {detail}" if detail else ""),
                              scenario=scenario, checks=checks, files=self._files(), **base)

    def _salvage(self) -> tuple[str, list[Any]]:
        """Keep what a killed run had saved (papermill saves the notebook as it goes)."""
        from kit.report.notebook_files import write_notebook_files

        raw = Path(self.spec["raw_output"])
        if not raw.exists():
            return "", []
        try:
            return write_notebook_files(raw, self.job.ipynb, self.job.html, self._known_secrets())
        except Exception:  # noqa: BLE001 - a half-written notebook: report without it
            return "", []

    def _files(self) -> dict[str, str]:
        return {kind: path.name for kind, path in (("ipynb", self.job.ipynb), ("html", self.job.html))
                if path.exists()}


def run_notebooks(jobs: Sequence[NotebookJob], *, parallel: int, timeout: float,
                  env: Mapping[str, str], secret_envs: Sequence[str], progress: Any,
                  kernel_name: str = KERNEL_NAME, watchdog_grace: float = 60.0,
                  worker_argv: Sequence[str] = WORKER,
                  expected_s: Mapping[str, float] | None = None) -> list[NotebookResult]:
    """Run every job, ``parallel`` at a time; results in the order of ``jobs``.

    ``expected_s`` (name -> seconds, e.g. from the previous report) starts the longest
    notebooks first, so a long one does not run alone at the end; unknown ones go first.
    """
    with tempfile.TemporaryDirectory(prefix="kit-report-") as tmp:
        known = expected_s or {}
        order = sorted(range(len(jobs)), key=lambda i: -known.get(jobs[i].name, float("inf")))
        waiting: queue.Queue[int] = queue.Queue()
        for index in order:
            waiting.put(index)
        results: dict[int, NotebookResult] = {}

        def serve(slot: _Slot) -> None:
            try:
                while True:
                    try:
                        index = waiting.get_nowait()
                    except queue.Empty:
                        return
                    workdir = Path(tmp) / f"{index:03d}"
                    workdir.mkdir()
                    results[index] = _Run(jobs[index], workdir, slot, timeout=timeout,
                                          grace=watchdog_grace, env=env, secret_envs=secret_envs,
                                          kernel_name=kernel_name, progress=progress).run()
            finally:
                slot.close()

        slots = [_Slot(i, Path(tmp), env=env, worker_argv=worker_argv)
                 for i in range(max(1, min(parallel, len(jobs))))]
        with ThreadPoolExecutor(max_workers=len(slots)) as pool:
            for future in [pool.submit(serve, slot) for slot in slots]:
                future.result()
        return [results[index] for index in range(len(jobs))]

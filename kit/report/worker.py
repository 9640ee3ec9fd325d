"""Notebooks executed outside the runner's process: ``python kit/report/worker.py --serve``.

The runner keeps one worker process per parallel slot; the worker reads spec file paths
on stdin and runs one notebook (one fresh kernel) per line, so a dead or hung kernel is
told apart from a slow one, and a hung worker is killed without touching the others. It
prints progress as JSON lines on stdout (``{"cell": 3, "cells": 12}``, then
``{"done": <result path>}``) and writes each result to ``spec["result"]``. Secrets come from the environment variables named in
``spec["secret_envs"]``; the spec file holds none.

It runs as a script and imports only the standard library at the top: papermill loads
first so the kernel starts at once, and ``kit`` (with supabase-py) and nbconvert load in
a thread while the kernel works.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(__file__).parent:
    sys.path.pop(0)  # run as a script: kit/report/ must not shadow top-level modules

# How a notebook run ended; anything but EXECUTED makes the report exit 2.
EXECUTED = "executed"
CELL_ERROR = "cell error"
KERNEL_DIED = "kernel died"
TIMED_OUT = "timed out"
RUNNER_CRASHED = "runner crashed"
STATUSES = (EXECUTED, CELL_ERROR, KERNEL_DIED, TIMED_OUT, RUNNER_CRASHED)


def _emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def _progress_engine() -> type:
    from papermill.engines import NBClientEngine

    class ProgressEngine(NBClientEngine):
        """papermill's nbclient engine that also reports each cell as it starts."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            total = len(nb_man.nb.cells)
            cell_start = nb_man.cell_start

            def reporting_cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                _emit({"cell": (cell_index or 0) + 1, "cells": total})
                return cell_start(cell, cell_index, **kw)

            nb_man.cell_start = reporting_cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    return ProgressEngine


def _one_line(text: str, limit: int = 300) -> str:
    """The error on one line; a long one loses the middle of its problem (an HTML page, a
    traceback), never its ``Fix: ...``, and says how much was left out."""
    line = " ".join(str(text).split())
    if len(line) <= limit:
        return line
    problem, sep, fix = line.rpartition(" Fix: ")
    if not sep:
        problem, fix = line, ""
    keep = max(80, limit - len(fix))
    if len(problem) <= keep:
        return line
    cut = f"{problem[:keep]} [{len(problem) - keep} more characters]"
    return f"{cut}{sep}{fix}" if sep else cut


def _which_cell(notebook: str, error: Any) -> str:
    """``cell N``: the failing cell's place among all cells of the notebook as written (markdown
    included, from 1), the number ``kit scan`` gives it; papermill's own ``cell_index`` counts
    the parameters cell it injects and ``exec_count`` only the code cells that ran. Found by the
    cell's source; ``the injected parameters cell`` when no cell of the notebook has it."""
    import nbformat

    try:
        cells = nbformat.read(notebook, as_version=4).cells
    except Exception:  # noqa: BLE001 - the error message must still come out
        cells = []
    places = [number for number, cell in enumerate(cells, start=1) if cell.source == error.source]
    if len(places) == 1:
        return f"cell {places[0]}"
    if not places and (error.source or "").startswith("# Parameters"):  # papermill's python translator
        return "the injected parameters cell"
    return f"the cell run as In [{error.exec_count}]"


def execute(spec: dict[str, Any]) -> tuple[str, str]:
    """Run papermill; return (status, one-line error)."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    papermill_engines.register("kit-progress", _progress_engine())
    deadline = time.monotonic() + float(spec["timeout"])

    def remaining(cell: Any) -> int:  # the timeout is for the whole notebook, not each cell
        return max(1, round(deadline - time.monotonic()))

    try:
        papermill.execute_notebook(
            spec["input"], spec["raw_output"], parameters=spec["parameters"],
            kernel_name=spec["kernel_name"], engine_name="kit-progress", progress_bar=False,
            execution_timeout=spec["timeout"], start_timeout=min(120, spec["timeout"]),
            cwd=spec.get("cwd"), log_output=False, timeout_func=remaining,
            # Unix sockets, not TCP ports: kernels starting at once cannot race for a port
            # in the worker's private folder
            config=Config({"KernelManager": {"transport": "ipc", "ip": str(
                Path(spec["raw_output"]).with_name("kernel-ipc"))}}))
    except PapermillExecutionError as exc:
        return CELL_ERROR, _one_line(f"{_which_cell(spec['input'], exc)}: {exc.ename}: {exc.evalue}")
    except CellTimeoutError:
        return TIMED_OUT, f"still running when its {spec['timeout']:g} s timeout ran out"
    except DeadKernelError as exc:
        return KERNEL_DIED, _one_line(f"the kernel died: {exc}")
    except RuntimeError as exc:
        if "Kernel died" in str(exc):
            return KERNEL_DIED, _one_line(f"the kernel died while starting: {exc}")
        return RUNNER_CRASHED, _one_line(f"RuntimeError: {exc}")
    except Exception as exc:  # noqa: BLE001 - anything else is reported, never hidden
        return RUNNER_CRASHED, _one_line(f"{type(exc).__name__}: {exc}")
    return EXECUTED, ""


class _WarmExporter(threading.Thread):
    """Imports nbconvert and compiles its templates while the kernel works, so the page is
    written moments after the last cell instead of seconds."""

    def __init__(self) -> None:
        super().__init__(name="warm-html-exporter", daemon=True)
        self.exporter: Any = None

    def run(self) -> None:
        try:
            from kit.report.notebook_files import html_exporter

            self.exporter = html_exporter(warm=True)
        except Exception:  # noqa: BLE001 - the page is then built cold, with errors shown there
            self.exporter = None


def run(spec: dict[str, Any], warm: _WarmExporter) -> dict[str, Any]:
    """Execute one notebook and write its scrubbed files; the result as JSON-able data."""
    started = time.monotonic()
    status, error = execute(spec)
    duration = time.monotonic() - started
    warm.join()
    from kit.report.notebook_files import write_notebook_files
    from kit.report.scrub import scrub_text, secret_parameter_values

    known = [os.environ.get(name, "") for name in spec.get("secret_envs", [])]
    known += secret_parameter_values(spec["parameters"])
    result: dict[str, Any] = {"status": status, "error": scrub_text(error, known),
                              "duration_s": duration, "scenario": "", "checks": []}
    if Path(spec["raw_output"]).exists():
        scenario, checks = write_notebook_files(Path(spec["raw_output"]), Path(spec["ipynb"]),
                                                Path(spec["html"]), known, exporter=warm.exporter)
        result.update(scenario=scenario, checks=[c.to_dict() for c in checks])
    return result


def _answer(spec_file: str, exporter: Any) -> None:
    spec = json.loads(Path(spec_file).read_text())
    result = run(spec, exporter)
    tmp = Path(spec["result"]).with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, spec["result"])
    _emit({"done": spec["result"]})


def main(argv: list[str]) -> int:
    """``worker.py SPEC.json`` runs one notebook; ``worker.py --serve`` runs one per line of
    standard input (a spec file path) until input ends, paying its imports once."""
    # jsonschema (via nbformat) imports rfc3987_syntax when installed, which compiles a
    # Lark grammar at import: seconds of CPU per worker for an IRI format check papermill
    # never uses. The worker opts out; jsonschema skips that check on ImportError.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import papermill  # noqa: F401 - before the thread starts: concurrent imports of jupyter_client race

    warm = _WarmExporter()
    warm.start()
    if argv != ["--serve"]:
        _answer(argv[0], warm)
        return 0
    for line in sys.stdin:
        if line.strip():
            _answer(line.strip(), warm)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

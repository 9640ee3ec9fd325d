"""Progress while notebooks run: tqdm bars on a terminal, plain lines elsewhere.

    progress = choose_progress(sys.stderr, total=5)   # "bars" on a tty, "lines" otherwise
    progress.started("01_storage_download"); progress.advanced("01_storage_download", 3, 12)  # cell 3 runs
    progress.finished(result); progress.close()

Implementations register in ``PROGRESS``; ``make_progress("nope", ...)`` lists the known ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO, Any

from kit.errors import UsageError
from kit.report.results import NotebookResult


def outcome_text(result: NotebookResult) -> str:
    """``executed, 3/4 checks passed`` or ``kernel died: ...``: one result in a few words."""
    passed = len(result.checks) - len(result.failed_checks)
    if result.executed:
        return f"{result.status}, {passed}/{len(result.checks)} checks passed"
    return f"{result.status}: {result.error}"


class LineProgress:
    """One line when a notebook starts and one when it ends (for logs and CI)."""

    def __init__(self, stream: IO[str], total: int) -> None:
        self.stream, self.total, self.done = stream, total, 0
        self._lock = threading.Lock()

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def started(self, name: str) -> None:
        self._print(f"[{self.done}/{self.total}] started  {name}")

    def advanced(self, name: str, cell: int, cells: int) -> None:
        pass  # per-cell lines would drown a CI log

    def finished(self, result: NotebookResult) -> None:
        with self._lock:
            self.done += 1
            done = self.done
        self._print(f"[{done}/{self.total}] finished {result.name}: {outcome_text(result)} "
                    f"({result.duration_s:.1f} s)")

    def close(self) -> None:
        pass


class BarProgress:
    """An overall bar (notebooks) and one bar per running notebook (cells)."""

    def __init__(self, stream: IO[str], total: int) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._lock = threading.Lock()
        self.stream = stream
        self.overall = tqdm(total=total, desc="notebooks", unit="nb", position=0, file=stream,
                            leave=True, dynamic_ncols=True)
        self.bars: dict[str, tuple[Any, int]] = {}  # name -> (bar, screen row)
        self._free_rows: list[int] = []
        self._next_row = 1

    def started(self, name: str) -> None:
        with self._lock:
            row = self._free_rows.pop(0) if self._free_rows else self._next_row
            self._next_row = max(self._next_row, row + 1)
            bar = self._tqdm(total=1, desc=name, unit="cell", position=row, file=self.stream,
                             leave=False, dynamic_ncols=True)
            self.bars[name] = (bar, row)

    def advanced(self, name: str, cell: int, cells: int) -> None:
        with self._lock:
            bar, _ = self.bars.get(name, (None, 0))
            if bar is not None:
                bar.total = cells
                bar.n = cell - 1  # cells finished; ``cell`` is the one now running
                bar.set_postfix_str(f"cell {cell}", refresh=False)
                bar.refresh()

    def finished(self, result: NotebookResult) -> None:
        with self._lock:
            bar, row = self.bars.pop(result.name, (None, 0))
            if bar is not None:
                self._free_rows.append(row)
                bar.close()
            self._tqdm.write(f"{result.name}: {outcome_text(result)} ({result.duration_s:.1f} s)",
                             file=self.stream)
            self.overall.update(1)

    def close(self) -> None:
        with self._lock:
            for bar, _ in self.bars.values():
                bar.close()
            self.overall.close()


class QuietProgress(LineProgress):
    """Nothing at all (for library use and tests that only want the result)."""

    def _print(self, text: str) -> None:
        pass


PROGRESS: dict[str, Callable[[IO[str], int], LineProgress | BarProgress]] = {
    "bars": BarProgress, "lines": LineProgress, "quiet": QuietProgress}


def make_progress(kind: str, stream: IO[str], total: int) -> LineProgress | BarProgress:
    if kind not in PROGRESS:
        raise UsageError(f"unknown progress display {kind!r}; known: {', '.join(sorted(PROGRESS))}")
    return PROGRESS[kind](stream, total)


def choose_progress(stream: IO[str], total: int) -> LineProgress | BarProgress:
    """Bars on a terminal, simple lines when output goes to a file or a CI log."""
    is_tty = getattr(stream, "isatty", lambda: False)()
    return make_progress("bars" if is_tty else "lines", stream, total)

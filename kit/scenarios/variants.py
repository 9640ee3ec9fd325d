"""Run one implementation's call N times at once in the arena, under the loop monitor.

    run = run_variant("broken", make_service, "download_image", lambda i: (path,), concurrency=8)
    run.max_stall_ms, run.errors, run.values

``VariantComparison`` shows several runs side by side: which variant returned the right
thing, which blocked the loop, and the line each stall was traced to.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kit.arena import run_in_arena
from kit.loop.monitor import LoopReport, Stall
from kit.loop.watch import watch_loop
from kit.scenarios.memory_service import call_service


@dataclass(frozen=True)
class CallOutcome:
    value: Any
    error: BaseException | None
    latency_ms: float


@dataclass
class VariantRun:
    """N concurrent calls of one variant: their outcomes, the wall time and the loop's stalls."""

    variant: str
    calls: list[CallOutcome]
    wall_ms: float
    loop: LoopReport
    notes: list[str] = field(default_factory=list)

    @property
    def values(self) -> list[Any]:
        return [c.value for c in self.calls if c.error is None]

    @property
    def errors(self) -> list[BaseException]:
        return [c.error for c in self.calls if c.error is not None]

    @property
    def max_stall_ms(self) -> float:
        return self.loop.max_stall_ms

    @property
    def stalls(self) -> list[Stall]:
        return self.loop.stalls

    def stalls_in(self, filename_suffix: str, function: str | None = None) -> list[Stall]:
        """Stalls whose user frame is in that file (and function)."""
        return [s for s in self.stalls if s.user_frame is not None
                and s.user_frame.filename.endswith(filename_suffix)
                and (function is None or s.user_frame.function == function)]

    def sync_sdk_stalls(self) -> list[Stall]:
        """Stalls spent inside a sync SDK call (``_sync/`` modules, httpx's sync client)."""
        return [s for s in self.stalls if s.sdk_frame is not None and
                any(part in s.sdk_frame.filename for part in ("/_sync/", "httpx/_client.py",
                                                              "httpcore/_sync/"))]

    def error_summary(self) -> str:
        kinds: dict[str, int] = {}
        for error in self.errors:
            kinds[type(error).__name__] = kinds.get(type(error).__name__, 0) + 1
        return ", ".join(f"{n}× {name}" for name, n in sorted(kinds.items())) or "none"

    def __repr__(self) -> str:
        return (f"<VariantRun {self.variant}: {len(self.calls)} calls, {len(self.errors)} errors, "
                f"max stall {self.max_stall_ms:.0f} ms>")


def run_variant(variant: str, make_service: Callable[[], Any], method: str,
                args_for: Callable[[int], tuple[Any, ...]], *, concurrency: int = 1,
                close: Callable[[], Awaitable[None]] | None = None) -> VariantRun:
    """``concurrency`` calls of ``service.<method>(*args_for(i))`` at once in a fresh loop,
    watched for stalls.

    ``make_service`` runs inside the arena loop, so async clients bind to that loop; ``close``
    (also run there) releases them. Sync methods run via ``asyncio.to_thread``, as a caller
    of a sync service should.
    """
    async def one(service: Any, index: int) -> CallOutcome:
        started = time.perf_counter()
        try:
            value = await call_service(getattr(service, method), *args_for(index))
            return CallOutcome(value, None, (time.perf_counter() - started) * 1000)
        except Exception as exc:  # the outcome is data: shown and checked, not raised
            return CallOutcome(None, exc, (time.perf_counter() - started) * 1000)

    async def main() -> tuple[list[CallOutcome], float, LoopReport]:
        service = make_service()
        try:
            async with watch_loop() as watch:
                started = time.perf_counter()
                calls = await asyncio.gather(*(one(service, i) for i in range(concurrency)))
                wall = (time.perf_counter() - started) * 1000
            assert watch.report is not None
            return list(calls), wall, watch.report
        finally:
            if close is not None:
                await close()

    calls, wall, report = run_in_arena(main, name=f"kit-arena-{variant}")
    return VariantRun(variant, calls, wall, report)


@dataclass
class VariantComparison:
    """Several variants' runs side by side."""

    title: str
    runs: list[VariantRun]
    verdicts: dict[str, str] = field(default_factory=dict)  # variant -> one-line verdict

    def __getitem__(self, variant: str) -> VariantRun:
        for run in self.runs:
            if run.variant == variant:
                return run
        raise KeyError(f"no variant {variant!r}; known: {', '.join(r.variant for r in self.runs)}")

    def rows(self) -> list[dict[str, Any]]:
        return [{"variant": r.variant, "calls": len(r.calls), "errors": r.error_summary(),
                 "wall_ms": round(r.wall_ms, 1), "max_stall_ms": round(r.max_stall_ms, 1),
                 "heartbeat_misses": r.loop.heartbeat_misses,
                 "stall_traced_to": r.stalls[0].traced_to if r.stalls else "",
                 "verdict": self.verdicts.get(r.variant, "")} for r in self.runs]

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows())

    def __repr__(self) -> str:
        return f"<VariantComparison {self.title}: {', '.join(repr(r) for r in self.runs)}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = self.rows()
        lines = [self.title] + [" | ".join(f"{k}={v}" for k, v in row.items()) for row in rows]
        head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0]) if rows else ""
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values())
                       + "</tr>" for row in rows)
        return {"text/plain": "\n".join(lines),
                "text/html": f"<h4>{html.escape(self.title)}</h4><table class='kit-variants'>"
                             f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"}

"""The terminal summary: stalls by line, HTML-where-JSON flags, unawaited coroutines, counts.

    summary = RunSummary()
    summary.add(nodeid, digest, failed_by_kit=True)      # one per test (Findings.to_dict())
    summary.add_unawaited(nodeid, "coroutine 'AsyncQueryRequestBuilder.execute' was never awaited")
    summary.lines()                                      # pure: the text to print

It runs where the terminal is: in the xdist controller, from the digests the workers send
on their test reports.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

_COROUTINE = re.compile(r"coroutine '([^']+)' was never awaited")


@dataclass
class RunSummary:
    watched: int = 0
    not_watched: int = 0  # async tests on a loop the monitor cannot watch (trio)
    captured: int = 0
    exchanges: int = 0
    failed_by_kit: list[str] = field(default_factory=list)
    stalls: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    unblamed_stalls: int = 0
    flagged: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unawaited: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, nodeid: str, digest: dict[str, Any], *, failed_by_kit: bool) -> None:
        self.watched += bool(digest.get("watched"))
        self.not_watched += bool(digest.get("not_watched"))
        if digest.get("exchanges") is not None:
            self.captured += 1
            self.exchanges += int(digest["exchanges"])
        for stall in digest.get("stalls", ()):
            self.stalls[stall["at"]].append((float(stall["ms"]), nodeid))
        self.unblamed_stalls += int(digest.get("other_stalls", 0))
        for flagged in digest.get("flagged", ()):
            where = f" at {flagged['at']}" if flagged.get("at") else ""
            for flag in flagged["flags"]:
                self.flagged[f"{flag}: {flagged['exchange']}{where}"].append(nodeid)
        if failed_by_kit:
            self.failed_by_kit.append(nodeid)

    def add_unawaited(self, nodeid: str, message: str) -> None:
        """A warning or unraisable error whose message says a coroutine was never awaited."""
        match = _COROUTINE.search(message)
        if match:
            self.unawaited[match.group(1)].append(nodeid or "(outside a test)")

    @property
    def empty(self) -> bool:
        return not (self.watched or self.captured or self.unawaited)

    def lines(self) -> list[str]:
        out = []
        counts = [f"{self.watched} async tests watched for stalls" if self.watched else "",
                  f"{self.captured} tests captured ({self.exchanges} Supabase exchanges)"
                  if self.captured else "",
                  f"{len(self.failed_by_kit)} failed by kit" if self.failed_by_kit else ""]
        out.append("; ".join(c for c in counts if c) or "nothing watched or captured")
        if self.not_watched:
            out.append(f"{self.not_watched} async tests not watched: not on an asyncio event loop")
        if self.stalls:
            out.append("stalls by line (longest, count, tests):")
            for where, seen in sorted(self.stalls.items(), key=lambda kv: -max(kv[1])[0]):
                per_test = Counter(nodeid for _, nodeid in seen)
                out.append(f"  {max(ms for ms, _ in seen):7.0f} ms  {len(seen)}×  {where}")
                out += [f"               {nodeid}" + (f" ({n}×)" if n > 1 else "")
                        for nodeid, n in sorted(per_test.items())]
        if self.unblamed_stalls:
            out.append(f"{self.unblamed_stalls} stalls outside user and SDK code (event loop "
                       "machinery, GC or the machine); not failed on")
        if self.flagged:
            out.append("HTML where JSON or bytes were expected:")
            for what, tests in sorted(self.flagged.items()):
                out.append(f"  {len(tests)}×  {what}")
                out += [f"        {nodeid}" for nodeid in sorted(set(tests))]
        if self.unawaited:
            out.append("coroutines never awaited:")
            for name, tests in sorted(self.unawaited.items()):
                out.append(f"  {len(tests)}×  {name}")
                out += [f"        {nodeid}" for nodeid in sorted(set(tests))]
        return out

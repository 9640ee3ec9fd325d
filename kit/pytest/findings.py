"""What the plugin saw during one test: stalls, Supabase exchanges and their flags.

``Findings`` lives in the test's process; ``to_dict()`` is its JSON-able digest, carried on
the test report (so pytest-xdist brings it to the controller) and read by the summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kit.pytest.stalls import blames_code

if TYPE_CHECKING:
    from kit.capture import Exchange
    from kit.loop import LoopReport, Stall
    from kit.pytest.traffic import SitedCapture

# Flags that mean a silently wrong result: a 2xx response whose body is an HTML page.
SILENT_FLAGS = ("html_where_json_expected", "html_where_bytes_expected")


@dataclass
class Findings:
    """One test's loop report and capture, and what the plugin concluded from them."""

    threshold_ms: float | None = None
    loop_report: LoopReport | None = None
    not_watched: str = ""
    capture: SitedCapture | None = None
    _flags: dict[int, list[str]] = field(default_factory=dict)

    @property
    def stalls(self) -> list[Stall]:
        """Stalls traced to user or SDK code (the ones a test fails for)."""
        return [s for s in self.loop_report.stalls if blames_code(s)] if self.loop_report else []

    @property
    def other_stalls(self) -> list[Stall]:
        return [s for s in self.loop_report.stalls if not blames_code(s)] if self.loop_report else []

    def flags(self, exchange: Exchange) -> list[str]:
        if exchange.seq not in self._flags:
            from kit.flags import flags_for

            self._flags[exchange.seq] = flags_for(exchange)
        return self._flags[exchange.seq]

    @property
    def silent_html(self) -> list[Exchange]:
        """Exchanges whose 2xx body was an HTML page where JSON or bytes were expected."""
        if self.capture is None:
            return []
        return [ex for ex in self.capture if set(self.flags(ex)) & set(SILENT_FLAGS)]

    def to_dict(self) -> dict[str, Any]:
        """The digest the terminal summary reads (JSON-able; keys and JWTs masked)."""
        flagged = []
        for ex in self.silent_html:
            site = self.capture.site_of(ex) if self.capture is not None else None
            flagged.append({"flags": [f for f in self.flags(ex) if f in SILENT_FLAGS],
                            "exchange": ex.summary(), "at": site.where if site else ""})
        return {"watched": self.loop_report is not None, "not_watched": self.not_watched,
                "threshold_ms": self.threshold_ms,
                "stalls": [{"ms": round(s.duration_ms, 1), "at": s.traced_to} for s in self.stalls],
                "other_stalls": len(self.other_stalls),
                "exchanges": len(self.capture) if self.capture is not None else None,
                "flagged": flagged}

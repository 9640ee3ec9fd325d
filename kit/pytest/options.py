"""What the plugin was asked to do, for the run and for one test (pure: options and marks in).

    asked = Asked.for_item(item)           # from --kit-* options and kit_* marks
    asked.stalls_ms, asked.stalls_fail, asked.capture, asked.capture_strict
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

DEFAULT_STALL_MS = 100.0
MARKERS = (
    ("kit_stalls(ms=100, fail=True): run this async test under the kit's loop monitor; a stall "
     "longer than ms in user or SDK code fails it (fail=False only reports; enabled=False opts out)"),
    ("kit_capture(strict=True): record this test's Supabase traffic; show it when the test fails, "
     "and fail it when an HTML page arrived where JSON or file bytes were expected (strict=False: "
     "only show)"),
)


def milliseconds(value: str) -> float:
    """argparse type of ``--kit-stalls[=MS]``: a positive number of milliseconds."""
    try:
        ms = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--kit-stalls takes a number of milliseconds, got {value!r}; write --kit-stalls=100 "
            "(with '=') or put --kit-stalls after the test paths") from None
    if not ms > 0:
        raise argparse.ArgumentTypeError(f"--kit-stalls={value}: the threshold must be > 0 ms, "
                                         "e.g. --kit-stalls=100")
    return ms


@dataclass(frozen=True)
class Asked:
    """For one test: watch stalls over ``stalls_ms`` (None: don't), fail on them, capture."""

    stalls_ms: float | None = None
    stalls_fail: bool = True
    capture: bool = False
    capture_strict: bool = True

    @property
    def active(self) -> bool:
        return self.stalls_ms is not None or self.capture

    @classmethod
    def from_options(cls, option: Any) -> Asked:
        """The run-wide request: ``Asked.from_options(config.option)``."""
        ms = getattr(option, "kit_stalls", None)
        warn = bool(getattr(option, "kit_stalls_warn", False))
        if ms is None and warn:
            ms = DEFAULT_STALL_MS
        return cls(stalls_ms=ms, stalls_fail=not warn,
                   capture=bool(getattr(option, "kit_capture", False)))

    def with_marks(self, stalls: Any | None, capture: Any | None) -> Asked:
        """Apply a test's ``kit_stalls`` / ``kit_capture`` marks (closest wins) to the run's request."""
        ms, fail, on, strict = self.stalls_ms, self.stalls_fail, self.capture, self.capture_strict
        if stalls is not None:
            kwargs = dict(stalls.kwargs)
            unknown = set(kwargs) - {"ms", "fail", "enabled"}
            if unknown or stalls.args:
                raise ValueError(f"@pytest.mark.kit_stalls takes ms=, fail= and enabled= only "
                                 f"(got {sorted(unknown) or list(stalls.args)})")
            if kwargs.get("enabled", True) is False:
                ms = None
            else:
                ms = milliseconds(str(kwargs.get("ms", ms or DEFAULT_STALL_MS)))
                fail = bool(kwargs.get("fail", fail))
        if capture is not None:
            unknown = set(capture.kwargs) - {"strict"}
            if unknown or capture.args:
                raise ValueError(f"@pytest.mark.kit_capture takes strict= only "
                                 f"(got {sorted(unknown) or list(capture.args)})")
            on, strict = True, bool(capture.kwargs.get("strict", True))
        return Asked(ms, fail, on, strict)

"""Diff sync and async execution of one operation; see ``kit.diff.engine``.

    report = kit.diff(lambda c: c.table("chats").select("*").execute(), target=kit.stack.start())
    report        # rows = modes: outcome, fingerprint, stalls traced to lines, exchanges, flags
"""

from __future__ import annotations

from kit.diff.engine import adiff, diff, plan_rows
from kit.diff.fingerprint import Fingerprint, fingerprint, normalise
from kit.diff.report import CallOutcome, DiffReport, ModeResult, RowRun

__all__ = ["CallOutcome", "DiffReport", "Fingerprint", "ModeResult", "RowRun", "adiff", "diff",
           "fingerprint", "normalise", "plan_rows"]

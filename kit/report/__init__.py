"""Regression reports: notebooks record checks, the runner executes them and writes a report.

    kit.record(checks)                                   # in a notebook
    python -m kit report --profile embedded --jobs 2     # on the command line
    kit.report.run_report(kit.report.load_profile("embedded"), only=["01_storage_download"])

Importing this package stays light: the runner, papermill, nbconvert and IPython load
only when used.
"""

from __future__ import annotations

from typing import Any

from kit.report.record import checks_bundle, record

__all__ = ["checks_bundle", "load_profile", "load_summary", "record", "run_report"]

_LAZY = {"run_report": "kit.report.run", "load_profile": "kit.report.profiles",
         "load_summary": "kit.report.baseline"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kit.report' has no attribute {name!r}")

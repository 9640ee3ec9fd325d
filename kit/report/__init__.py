"""Regression reports: notebooks record checks, the runner executes them and writes a report.

    kit.record(checks)                    # in a notebook
    python -m kit report --profile embedded --jobs 2     # on the command line

Importing this package stays light: papermill, nbconvert and IPython load only when used.
"""

from __future__ import annotations

from kit.report.record import checks_bundle, record

__all__ = ["checks_bundle", "record", "run_report"]


def run_report(*args: object, **kwargs: object) -> object:
    """``kit.report.run_report(load_profile("embedded"))``: see ``kit.report.run.run_report``."""
    from kit.report.run import run_report as run

    return run(*args, **kwargs)  # type: ignore[arg-type]

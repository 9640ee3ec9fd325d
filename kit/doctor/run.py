"""``doctor()``: examine an app and its machine once, run every section's checks.

    report = doctor("path/to/app", python="3.9", health="http://127.0.0.1:8000/health")

Sections register in ``SECTIONS`` (name -> function of the Examination); a section that
raises becomes one ``error`` check (exit 2), the others still run.
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from kit.doctor.configuration import configuration_checks
from kit.doctor.examination import Examination
from kit.doctor.interpreter_checks import interpreter_checks, run_command
from kit.doctor.model import ERROR, DoctorCheck, DoctorOptions, DoctorReport
from kit.doctor.packages import package_checks
from kit.doctor.project import AppProject
from kit.doctor.python_version import lowest_python, python_version_checks
from kit.doctor.reachability import reachability_checks

__all__ = ["SECTIONS", "doctor", "doctor_html_in_background"]


SECTIONS: dict[str, Callable[[Examination, DoctorOptions], list[DoctorCheck]]] = {
    "interpreters": lambda ex, _: interpreter_checks(ex),
    "packages": lambda ex, _: package_checks(ex),
    "python": lambda ex, _: python_version_checks(ex),
    "configuration": lambda ex, _: configuration_checks(ex),
    "reachability": reachability_checks,
}


def doctor(path: str | os.PathLike[str] = ".", *, python: str | None = None, health: str | None = None,
           env: Mapping[str, str] | None = None, timeout: float = 5.0, reachability: bool = True,
           interpreter: str | None = None,
           progress: Callable[[str], None] | None = None) -> DoctorReport:
    """Examine the app at ``path`` and this machine; returns a ``DoctorReport`` that displays itself.

    ``python`` ("3.9") overrides the app's declared lowest Python; ``health`` is the app's own
    health URL; ``env`` replaces ``os.environ`` (PATH, the app's variables); ``timeout`` is
    seconds per HTTP probe; ``reachability=False`` skips the Supabase and local-stack probes.
    ``interpreter`` is a Python the app is known to run with, one of its environments even
    when neither PATH nor its folder leads to it (listed once when they do): ``python -m kit
    doctor`` passes ``sys.executable`` (the kit is installed in the app's environment), the
    report runner its notebooks' kernel; ``diagnostics/doctor``, which runs the kit from
    outside the app's environments, passes none.
    ``progress`` hears one short line per step. Raises ``UsageError`` for a missing folder or
    a bad ``python``. Facts each check relies on are in its module's docstring.

    >>> kit.doctor("myapp", python="3.9")        # doctest: +SKIP
    <DoctorReport myapp: 23 checks, 3 failed, 2 warnings, 0 could not run>
    """
    say = progress or (lambda _: None)
    app = AppProject.load(path, env=env, python=python)
    ex = Examination.gather(app, interpreter=interpreter, progress=say)
    options = DoctorOptions(health=health, timeout=timeout, reachability=reachability)
    report = DoctorReport(str(path))
    for name, section in SECTIONS.items():
        say(f"checking {name}")
        try:
            report.checks += section(ex, options)
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
            report.checks.append(DoctorCheck(name, "section", ERROR, f"the {name} checks could not run: "
                                             f"{type(exc).__name__}: {exc}",
                                             "a bug in kit doctor: report it with this line"))
    report.run_command = run_command(ex)
    lowest, _ = lowest_python(ex)
    report.lowest_python = f"{lowest[0]}.{lowest[1]}" if lowest else ""
    return report


def doctor_html_in_background(path: str | os.PathLike[str], *, env: Mapping[str, str],
                              timeout: float = 3.0) -> Callable[[], str]:
    """Start ``doctor(path)`` in a thread (the report runner's notebooks run meanwhile); the
    returned function waits for it and gives its HTML section, or one line saying why not.

    >>> section = doctor_html_in_background(".", env=os.environ)   # doctest: +SKIP
    >>> section()[:30]
    "<section id='doctor' class='ki"
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kit-doctor")
    # the report's notebooks run in this interpreter (kit.report.runner.ensure_kernelspec)
    future = pool.submit(doctor, path, env=env, timeout=timeout, interpreter=sys.executable)
    pool.shutdown(wait=False)

    def section() -> str:
        from kit.doctor.render import render_html

        try:
            return render_html(future.result())
        except Exception as exc:  # noqa: BLE001 - the report must not fail for the doctor
            return (f"<section id='doctor' class='kit-doctor'><p class='error'>kit doctor could not "
                    f"run: {html.escape(f'{type(exc).__name__}: {exc}')}</p></section>")
    return section

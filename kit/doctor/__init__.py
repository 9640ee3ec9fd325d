"""``kit doctor``: the environment questions to answer before debugging any async code.

    report = kit.doctor("path/to/app")      # interpreters, packages, Python-version hazards,
    report                                  # configuration, reachability: a table in a notebook
    print(report); report.exit_code; report.to_dict()

Modules: ``project`` (the app's files, parsed once), ``declared`` (dependency files),
``interpreters`` (PATH, venvs, shebangs; ``probe.py`` runs inside each), ``examination``
(all of that gathered once), then one module per section: ``interpreter_checks``,
``packages``, ``hazards`` + ``python_version``, ``configuration`` + ``supabase_keys``,
``reachability``; ``model``/``render`` (the result and its views), ``run`` (``doctor()``,
the ``SECTIONS`` registry), ``cli``.
"""

from __future__ import annotations

from kit.doctor.model import DoctorCheck, DoctorReport
from kit.doctor.run import doctor

__all__ = ["DoctorCheck", "DoctorReport", "doctor"]

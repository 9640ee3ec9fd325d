"""``kit doctor``: the environment questions to answer before debugging any async code.

    report = kit.doctor("path/to/app")      # interpreters, packages, Python-version hazards,
    report                                  # configuration, reachability: a table in a notebook
    print(report); report.exit_code; report.to_dict()

Modules: ``project`` (the app's files), ``declared`` (dependency files), ``interpreters``
(PATH, venvs, shebangs, ``probe.py`` run in each), ``packages``, ``hazards`` and
``python_version``, ``configuration`` and ``supabase_keys``, ``reachability``,
``model``/``render`` (the result and its views), ``run`` (``doctor()``), ``cli``.
"""

from __future__ import annotations

from kit.doctor.model import DoctorCheck, DoctorReport
from kit.doctor.run import doctor

__all__ = ["DoctorCheck", "DoctorReport", "doctor"]

"""Packages: what the app declares and imports against what each interpreter has.

    checks = package_checks(ex)     # one check per interpreter, one per import nobody has,
                                    # and the supabase-py family's versions
    missing_everywhere(ex)          # the imports no interpreter has (each fails once, in its
                                    # own row; an interpreter's row does not fail for it again)
    best_interpreter(ex)            # the interpreter that lacks the least

Import names are not distribution names (``import psycopg2`` comes from ``psycopg2-binary``
or ``psycopg2``; ``import jwt`` from ``PyJWT``), so each interpreter is asked whether it
finds the module itself (``importlib.util.find_spec``, nothing imported), and
``IMPORT_TO_DISTRIBUTION`` names the usual distribution of a module nobody has installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from kit.doctor.declared import Declared
from kit.doctor.examination import Examination, ImportSite
from kit.doctor.interpreters import Interpreter
from kit.doctor.model import FAIL, INFO, OK, WARN, DoctorCheck

__all__ = ["IMPORT_TO_DISTRIBUTION", "Gaps", "MissingEverywhere", "best_interpreter", "gaps",
           "missing_everywhere", "package_checks"]

SECTION = "packages"
IMPORT_TO_DISTRIBUTION = {
    "psycopg2": ("psycopg2-binary", ("the import is psycopg2; the `psycopg2` distribution builds "
                                     "from source and needs pg_config, `psycopg2-binary` is the "
                                     "prebuilt wheel")),
    "psycopg": ("psycopg[binary]", ""), "yaml": ("PyYAML", ""), "PIL": ("Pillow", ""),
    "cv2": ("opencv-python", ""), "dotenv": ("python-dotenv", ""), "jwt": ("PyJWT", ""),
    "jose": ("python-jose", ""), "sklearn": ("scikit-learn", ""), "bs4": ("beautifulsoup4", ""),
    "dateutil": ("python-dateutil", ""), "multipart": ("python-multipart", ""),
    "magic": ("python-magic", ""), "Crypto": ("pycryptodome", ""), "gotrue": ("supabase", ""),
    "supabase_auth": ("supabase", ""), "postgrest": ("supabase", ""), "storage3": ("supabase", ""),
    "google": ("the google-* package that provides it", ""), "attr": ("attrs", ""),
    "pydantic_settings": ("pydantic-settings", ""), "socketio": ("python-socketio", ""),
}


@dataclass
class Gaps:
    missing: list[Declared] = field(default_factory=list)
    other_version: list[tuple[Declared, str]] = field(default_factory=list)
    unimportable: list[ImportSite] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.missing) + len(self.other_version) + len({s.module for s in self.unimportable
                                                                  if not s.guarded})


def gaps(ex: Examination, interp: Interpreter) -> Gaps:
    """What ``interp`` lacks of the app's declared dependencies and imports."""
    found = Gaps()
    installed = interp.distributions
    markers = interp.data.get("markers", {})
    for dep in ex.declared if interp.lists_packages else []:
        req = dep.requirement
        if req.marker is not None and markers and not req.marker.evaluate({**markers, "extra": ""}):
            continue
        have = installed.get(canonicalize_name(req.name))
        if have is None:
            found.missing.append(dep)
        elif req.specifier and not req.specifier.contains(have[1], prereleases=True):
            found.other_version.append((dep, have[1]))
    found.unimportable = [s for s in ex.imports if s.runs_on(interp) and not interp.has_module(s.module)]
    return found


def best_interpreter(ex: Examination) -> Interpreter | None:
    """The interpreter that lacks the least (the app's own venv first when it ties)."""
    venvs = {i.path for _, i in ex.app_venv_interpreters()}
    candidates = ex.working()
    if not candidates:
        return None
    return min(candidates, key=lambda i: (gaps(ex, i).size, i.path not in venvs,
                                          tuple(-n for n in i.version_tuple)))


def _primary(ex: Examination, interp: Interpreter) -> bool:
    """Whether ``interp`` runs the app, so its gaps break it: with the app's own environments
    (``.venv``, $VIRTUAL_ENV, poetry...), those and what the tools in their bin folders run
    (a ``uvicorn`` there may start another Python); without any, what a bare
    ``python``/``uvicorn``... on PATH runs (also when none of its own runs). Any other
    interpreter lacking packages is only information: the app is not run by it."""
    own = [venv.path for _, venv in ex.app_venv_interpreters()]
    if own:
        bins = {Path(python).parent for python in own}
        runners = list(own)
        runners += [e.runs for e in ex.discovery.executables if e.runs and Path(e.path).parent in bins]
    else:
        runners = [e.runs for e in ex.discovery.executables if e.first and e.runs]
    return any(ex.same_environment(ex.interpreter_of(path), interp) for path in runners)


def _sites(sites: list[ImportSite]) -> str:
    by_module: dict[str, list[str]] = {}
    for s in sites:
        by_module.setdefault(s.module, []).append(s.where)
    return _listed([f"{m} ({', '.join(w[:3])}{' …' if len(w) > 3 else ''})" for m, w in by_module.items()])


def _listed(items: list[str], limit: int = 8) -> str:
    more = f" … and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _distribution_of(module: str) -> str:
    """The usual distribution of a module: the table, else its name with dashes (``pytest_asyncio``).
    This kit (``import kit``) is not PyPI's ``kit`` (another project): ``-e <its checkout>``."""
    if module == "kit":
        checkout = Path(__file__).resolve().parents[2]
        return f"-e {checkout}" if (checkout / "pyproject.toml").is_file() else \
            "<this kit's checkout or wheel> (not PyPI's `kit`, another project)"
    return IMPORT_TO_DISTRIBUTION.get(module, (module.replace("_", "-"), ""))[0]


def _install_fix(interp: Interpreter, g: Gaps) -> str:
    files = sorted({d.file for d in g.missing} | {d.file for d, _ in g.other_version})
    parts = [f"{interp.path} -m pip install -r {f}" if f.startswith("req") else
             f"{interp.path} -m pip install -e ." if f == "pyproject.toml" else
             f"install what {f} lists into {interp.path}" for f in files]
    declared_missing = {canonicalize_name(d.requirement.name) for d in g.missing}
    extra = sorted({dist for dist in (_distribution_of(s.module) for s in g.unimportable if not s.guarded)
                    if canonicalize_name(dist.split("[")[0]) not in declared_missing})
    if extra:
        parts.append(f"{interp.path} -m pip install {' '.join(extra)}")
    return "; ".join(parts)


@dataclass(frozen=True)
class MissingEverywhere:
    """An import no working interpreter has (``import psycopg2`` at main.py:2) and the
    dependency lines that declare its distribution (psycopg2-binary at pyproject.toml:4)."""

    module: str
    sites: tuple[ImportSite, ...]
    distribution: str
    declared: tuple[Declared, ...]

    @property
    def guarded(self) -> bool:
        """Every import of it is optional (try/except ImportError or alike)."""
        return all(s.guarded for s in self.sites)


def missing_everywhere(ex: Examination) -> list[MissingEverywhere]:
    """The app's imports none of the working interpreters has, by module name."""
    found = []
    working = ex.working()
    for module in sorted({s.module for s in ex.imports}):
        if not working or any(i.has_module(module) for i in working):
            continue
        sites = tuple(s for s in ex.imports if s.module == module and any(s.runs_on(i) for i in working))
        if not sites:  # only under a version/platform test none of the interpreters passes
            continue
        dist = _distribution_of(module)
        declared = tuple(d for d in ex.declared if canonicalize_name(d.requirement.name) in
                         (canonicalize_name(dist.split("[")[0]), canonicalize_name(module)))
        found.append(MissingEverywhere(module, sites, dist, declared))
    return found


def _not_reported_elsewhere(g: Gaps, failing: list[MissingEverywhere]) -> Gaps:
    """``g`` without what the failing ``import X`` rows already report (no environment has X)."""
    modules = {row.module for row in failing}
    deps = [d for row in failing for d in row.declared]
    return Gaps([d for d in g.missing if d not in deps], g.other_version,
                [s for s in g.unimportable if s.module not in modules])


def _interpreter_check(ex: Examination, interp: Interpreter,
                       failing: list[MissingEverywhere]) -> DoctorCheck:
    """One row per environment; what a failing ``import X`` row reports is listed here but
    fails only there (one problem, one FAIL)."""
    g = gaps(ex, interp)
    if not g.size and not g.unimportable:
        evidence = (f"all {len(ex.declared)} declared dependencies installed, every import found"
                    if ex.declared else "every import the app makes is found")
        return DoctorCheck(SECTION, f"in {interp.label()}", OK, evidence)
    parts = []
    if g.missing:
        parts.append("missing: " + _listed([f"{d.requirement} ({d.source})" for d in g.missing]))
    if g.other_version:
        parts.append("other version: " + _listed([f"{d.requirement.name} {have} where {d.source} "
                                                  f"wants {d.requirement.specifier}"
                                                  for d, have in g.other_version]))
    needed = [s for s in g.unimportable if not s.guarded]
    if needed:
        parts.append("cannot import: " + _sites(needed))
    if len(needed) < len(g.unimportable):
        parts.append("optional imports it lacks (guarded, the app runs without them): "
                     + _sites([s for s in g.unimportable if s.guarded]))
    if not interp.lists_packages:
        parts.append("installed versions unknown (no importlib.metadata before Python 3.8)")
    own_rows = [f"`import {row.module}`" for row in failing if row.module in {s.module for s in needed}]
    if own_rows:
        parts.append(f"{', '.join(own_rows)} " + ("fails in its own row (no environment has it)"
                                                  if len(own_rows) == 1 else
                                                  "fail in their own rows (no environment has them)"))
    left = _not_reported_elsewhere(g, failing).size
    status = FAIL if _primary(ex, interp) and left else INFO  # a guarded import is optional
    return DoctorCheck(SECTION, f"in {interp.label()}", status, "; ".join(parts),
                       _install_fix(interp, g) if left or not own_rows else "")


def _nobody_has(ex: Examination, best: Interpreter | None,
                everywhere: list[MissingEverywhere]) -> list[DoctorCheck]:
    checks = []
    for row in everywhere:
        why = IMPORT_TO_DISTRIBUTION.get(row.module, ("", ""))[1]
        declared = [d.source for d in row.declared]
        evidence = (f"import {row.module} at {', '.join(s.where for s in row.sites[:5])}; none of the "
                    f"{len({i.prefix for i in ex.working()})} Python environments found has it"
                    + (f"; declared at {', '.join(declared)} but not installed" if declared else
                       "; not declared in any dependency file")
                    + ("; every import is guarded (try/except ImportError or alike), so the app "
                       "runs without it: optional" if row.guarded else ""))
        python = best.path if best else "python"
        fix = f"{python} -m pip install {row.distribution}" + (f" ({why})" if why else "")
        if not declared:
            fix += f", and declare {row.distribution} in the app's requirements"
        checks.append(DoctorCheck(SECTION, f"import {row.module}", INFO if row.guarded else FAIL,
                                  evidence, fix, row.sites[0].where))
    return checks


def _family_check(interp: Interpreter) -> DoctorCheck | None:
    installed = interp.distributions
    if "supabase" not in installed:
        return None
    from packaging.requirements import Requirement

    versions = ", ".join(f"{n} {v}" for key, (n, v) in sorted(installed.items())
                         if key in {canonicalize_name(f) for f in
                                    ("supabase", "postgrest", "storage3", "supabase-auth", "gotrue",
                                     "realtime", "supabase-functions", "supafunc", "httpx")})
    wrong = []
    for text in interp.requires_of("supabase"):
        req = Requirement(text)
        if req.marker is not None and "extra" in str(req.marker):
            continue
        have = installed.get(canonicalize_name(req.name))
        if have and req.specifier and not req.specifier.contains(have[1], prereleases=True):
            wrong.append(f"{req.name} {have[1]} (supabase {installed['supabase'][1]} wants {req.specifier})")
    if "gotrue" in installed and "supabase-auth" in installed:
        wrong.append("both gotrue (the old name) and supabase-auth are installed")
    if wrong:
        return DoctorCheck(SECTION, f"supabase-py family in {interp.path}", FAIL,
                           f"{versions}; mismatched: {'; '.join(wrong)}",
                           f"{interp.path} -m pip install --upgrade --force-reinstall "
                           f"'supabase=={installed['supabase'][1]}'"
                           + (" && pip uninstall gotrue" if "gotrue" in installed and
                              "supabase-auth" in installed else ""))
    return DoctorCheck(SECTION, f"supabase-py family in {interp.path}", OK,
                       f"{versions}; match each other")


def package_checks(ex: Examination) -> list[DoctorCheck]:
    checks = [DoctorCheck(SECTION, "dependency files", WARN, f"could not read: {line}",
                          "fix the line (PEP 508: name[extras] specifier ; marker)")
              for line in ex.unreadable]
    best = best_interpreter(ex)
    one_per_environment = list({i.prefix: i for i in reversed(ex.working())}.values())[::-1]
    everywhere = missing_everywhere(ex)
    failing = [row for row in everywhere if not row.guarded]
    checks += [_interpreter_check(ex, i, failing) for i in one_per_environment]
    checks += _nobody_has(ex, best, everywhere)
    checks += [c for c in (_family_check(i) for i in one_per_environment) if c is not None]
    return checks

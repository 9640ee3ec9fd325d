"""``run_report``: run a profile's notebooks against its target and write the report.

    outcome = run_report(load_profile("embedded"), out="reports")
    outcome.directory            # reports/2026-11-22T13-29-22
    outcome.summary.exit_code    # 0, 1 or 2

Writes each executed ``.ipynb`` and its HTML page, ``index.html``, ``summary.json`` and
``junit.xml`` into ``out/<timestamp>/`` and points ``out/latest`` at it. Keys reach the
kernels only through the environment variables the profile names; every file written
is scrubbed of them.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kit.report.baseline import Comparison, compare, load_summary
from kit.report.junit import render_junit
from kit.report.parameters import check_parameters, declared_parameters
from kit.report.profiles import Profile, ProfileError, select_notebooks
from kit.report.render import render_index
from kit.report.results import ReportSummary
from kit.report.runner import NotebookJob, ensure_kernelspec, run_notebooks
from kit.report.scrub import scrub_parameters, scrub_text, secret_parameter_values

if TYPE_CHECKING:
    from kit.targets import Target


@dataclass
class ReportRun:
    """A finished report: where it is, what it found, and how it compares."""

    directory: Path
    summary: ReportSummary
    comparison: Comparison | None = None

    @property
    def index(self) -> Path:
        return self.directory / "index.html"

    def __repr__(self) -> str:
        return f"<ReportRun {self.directory} exit {self.summary.exit_code}>"


@dataclass(frozen=True)
class KernelEnvironment:
    """What the kernels get (env) and what must never appear in the report (secrets)."""

    env: dict[str, str]
    secret_envs: list[str]
    secrets: list[str]
    target: dict[str, Any]
    found: Target | None = None  # a local or remote target (what the kit created there goes)


def kernel_environment(profile: Profile, *, base_env: dict[str, str] | None = None,
                       stack_dir: str | Path | None = None, cwd: Path | None = None,
                       check_timeout: float = 3.0) -> KernelEnvironment:
    """Start or reuse the embedded stack, or read and check a local/remote target once, before
    any kernel starts (a TargetError names the variable and the fix). The kernels get the
    runner's stack (``KIT_STACK_DIR``) and the invocation folder and its project root on
    ``PYTHONPATH``, so ``implementation="myapp.services.x:Cls"`` imports from there."""
    env = dict(os.environ if base_env is None else base_env)
    env["KIT_HEADLESS"] = "1"  # no one clicks in a report: panels stay inert (kit.ui)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(
        [*user_code_paths(cwd or Path.cwd()), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]))
    key_envs = [profile.key_env] + ([profile.anon_key_env] if profile.anon_key_env else [])
    if profile.target == "embedded":
        from kit import stack

        target = stack.start(stack_dir)
        env[profile.url_env] = target.url
        env[profile.key_env] = target.service_role_key or target.anon_key
        if profile.anon_key_env:
            env[profile.anon_key_env] = target.anon_key
        env["KIT_STACK_DIR"] = str(target.stack_dir)  # whatever the kernel's working directory
        secrets = [target.anon_key, target.service_role_key or "", target.jwt_secret or ""]
        return KernelEnvironment(env, key_envs, [s for s in secrets if s],
                                 {"kind": "embedded", "url": target.url,
                                  "stack_dir": str(target.stack_dir)})
    from kit.targets import check_target
    from kit.targets import target as read_target

    found = read_target(profile.target, url_env=profile.url_env, key_env=profile.key_env,  # type: ignore[arg-type]
                        anon_key_env=profile.anon_key_env, db_url_env=profile.db_url_env,
                        env=env, check=False)
    check_target(found, timeout=check_timeout)
    secrets = [s for s in (found.anon_key, found.service_role_key, env.get(profile.db_url_env or ""))
               if s]
    return KernelEnvironment(env, [*key_envs, *([profile.db_url_env] if profile.db_url_env else [])],
                             secrets, {"kind": profile.target, "url": scrub_text(found.url, secrets)},
                             found)


PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def user_code_paths(cwd: Path) -> list[str]:
    """The invocation folder and, when it is inside a project, that project's root (the
    nearest folder above holding pyproject.toml, setup.py, setup.cfg or .git)."""
    here = cwd.resolve()
    paths = [str(here)]
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            paths.append(str(folder))
            break
    return list(dict.fromkeys(paths))


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for dist, label in (("supabase", "supabase-py"), ("kit", "kit"), ("papermill", "papermill")):
        try:
            found[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[label] = "not installed"
    return found


def _report_dir(out: Path, now: datetime) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y-%m-%dT%H-%M-%S")
    for suffix in ["", *(f"-{i}" for i in range(1, 1000))]:
        candidate = out / f"{stamp}{suffix}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise ProfileError(f"too many reports named {stamp} in {out}", fix="pass another --out")


def _point_latest(out: Path, directory: Path) -> None:
    link = out / "latest"
    if link.exists() and not link.is_symlink():
        return  # someone keeps a real folder named "latest" there: leave it alone
    tmp = out / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(directory.name, target_is_directory=True)
    os.replace(tmp, link)


def previous_durations(out: Path) -> dict[str, float]:
    """Notebook durations of the last report in ``out`` (for scheduling), or nothing."""
    try:
        data = json.loads((out / "latest" / "summary.json").read_text())
        return {n["name"]: float(n["duration_s"]) for n in data["notebooks"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def run_report(profile: Profile, *, only: list[str] | None = None, jobs: int | None = None,
               timeout: float | None = None, baseline: str | Path | None = None,
               out: str | Path = "reports", stack_dir: str | Path | None = None,
               progress: Any = None, stream: IO[str] | None = None,
               base_env: dict[str, str] | None = None,
               parameters: dict[str, Any] | None = None) -> ReportRun:
    """Run the profile's notebooks and write the report; see the module docstring.

    ``parameters`` (``kit report -p NAME=VALUE``) are given to every notebook run, over the
    profile's. Unknown parameters, then the target, are checked before any kernel starts.

    >>> run_report(load_profile("embedded"), only=["00_start_here"])   # doctest: +SKIP
    <ReportRun reports/2026-11-22T13-29-22 exit 0>
    """
    from kit.report.progress import choose_progress

    specs = select_notebooks(profile, only)
    if not specs:
        raise ProfileError(f"profile {profile.name} found no notebooks",
                           fix="add notebooks or set notebook_dir / notebooks in the profile")
    missing = [str(s.path) for s in specs if not s.path.is_file()]
    if missing:
        raise ProfileError(f"notebook {missing[0]} does not exist", fix="fix the profile's notebooks")
    old = load_summary(baseline) if baseline else None
    started_at, started = datetime.now(timezone.utc), time.monotonic()
    base_params = profile.target_parameters()
    given: dict[str, dict[str, Any]] = {}
    for spec in specs:  # the target's parameters go where declared; the user's must be declared
        declared = declared_parameters(spec.path)
        chosen = {**spec.parameters, **(parameters or {})}
        check_parameters(spec.name, chosen, declared)
        given[spec.name] = {**{k: v for k, v in base_params.items() if k in declared}, **chosen}
    kernel = kernel_environment(profile, base_env=base_env, stack_dir=stack_dir)
    kernel_name = ensure_kernelspec()
    out = Path(out)
    expected = previous_durations(out)
    directory = _report_dir(out, started_at)
    jobs_list = [NotebookJob(name=s.name, source=s.path, parameters=given[s.name],
                             ipynb=directory / s.path.name, html=directory / f"{s.name}.html",
                             shown_parameters=scrub_parameters(given[s.name]))
                 for s in specs]
    progress = progress or choose_progress(stream or sys.stderr, len(jobs_list))
    from kit.doctor.run import doctor_html_in_background

    environment = doctor_html_in_background(Path.cwd(), env=kernel.env)  # runs beside the notebooks
    from kit.scenarios.base import HANDOVER_ENV, remove_handed_over

    handover = tempfile.TemporaryDirectory(prefix="kit-created-")
    if kernel.found is not None:  # the kernels hand what they create over; removed at the end
        kernel.env[HANDOVER_ENV] = str(Path(handover.name) / "created.jsonl")
    try:
        results = run_notebooks(jobs_list, parallel=jobs or profile.jobs,
                                timeout=timeout or profile.timeout, env=kernel.env,
                                secret_envs=kernel.secret_envs, progress=progress,
                                kernel_name=kernel_name, expected_s=expected)
    finally:
        progress.close()
        with handover:
            if kernel.found is not None:
                try:
                    remove_handed_over(kernel.found, kernel.env[HANDOVER_ENV])
                except Exception as exc:  # noqa: BLE001 - the report still gets written
                    print(f"kit: could not remove what the notebooks created on "
                          f"{scrub_text(kernel.found.url, kernel.secrets)}: {type(exc).__name__}: "
                          f"{scrub_text(str(exc), kernel.secrets)}", file=stream or sys.stderr)
    summary = ReportSummary(profile=profile.name, target=kernel.target, versions=versions(),
                            started=started_at.isoformat(timespec="seconds"),
                            duration_s=time.monotonic() - started, notebooks=results)
    comparison = compare(old, summary, baseline=str(baseline)) if old else None
    files = {"summary.json": json.dumps(summary.to_dict(), indent=2),
             "junit.xml": render_junit(summary), "index.html": render_index(summary, comparison, environment())}
    known = kernel.secrets + [v for job in jobs_list for v in secret_parameter_values(job.parameters)]
    for name, text in files.items():
        (directory / name).write_text(scrub_text(text, known), encoding="utf-8")
    _point_latest(out, directory)
    return ReportRun(directory, summary, comparison)

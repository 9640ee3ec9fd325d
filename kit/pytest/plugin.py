"""The pytest hooks of the kit's plugin (entry point ``pytest11: kit = kit.pytest.plugin``).

Inert unless asked: with no ``--kit-*`` option and no ``kit_*`` mark, each hook returns at
its first line and no test, fixture or report is touched. Heavy parts (the loop monitor,
httpx, supabase) are imported only when a test asks for them.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Generator
from typing import Any

import pytest

from kit.pytest.findings import Findings
from kit.pytest.fixtures import (
    JWT_SECRET_ENV,
    _kit_run_target,
    _kit_tag,
    _kit_undo_log,
    kit_clients,
    kit_db,
    kit_faults,
    kit_stack,
    kit_target,
    kit_user,
)
from kit.pytest.options import DEFAULT_STALL_MS, MARKERS, Asked, milliseconds
from kit.pytest.summary import RunSummary

# the fixtures are found by pytest as attributes of this module
__all__ = ["_kit_run_target", "_kit_tag", "_kit_undo_log", "kit_clients", "kit_db", "kit_faults", "kit_stack",
           "kit_target", "kit_user"]

_RUN = pytest.StashKey["KitRun"]()
_FINDINGS = pytest.StashKey[Findings]()
_FAILED_BY_KIT = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kit", "the Supabase sync/async kit (kit.pytest)")
    group.addoption("--kit-stalls", nargs="?", const=DEFAULT_STALL_MS, default=None,
                    type=milliseconds, metavar="MS", dest="kit_stalls",
                    help="run every async test under the kit's loop monitor; a stall longer "
                         f"than MS (default {DEFAULT_STALL_MS:g}) in your code or the SDK fails it")
    group.addoption("--kit-stalls-warn", action="store_true", dest="kit_stalls_warn",
                    help="like --kit-stalls, but stalls are reported in the summary, not failed")
    group.addoption("--kit-capture", action="store_true", dest="kit_capture",
                    help="record every test's Supabase traffic (any client); a failing test shows "
                         "it, flagged and explained; an HTML page where JSON was expected fails")
    group.addoption("--kit-target", choices=("embedded", "local", "remote"), default="embedded",
                    dest="kit_target", help="where kit_target and kit_clients point. embedded "
                    f"(default): the kit's stack (see --kit-stack-dir); local: {_reads('local')} "
                    f"(as supabase status -o env prints them); remote: {_reads('remote')}. Writes are undone "
                    "only with a database URL; the kit removes its kit_pytest objects after the run")
    group.addoption("--kit-stack-dir", default=None, dest="kit_stack_dir", metavar="DIR",
                    help="the embedded stack in DIR (started if needed, stopped after the run "
                         "only then). Default: KIT_STACK_DIR, else the nearest .kit/stack "
                         "from the rootdir, the stack python -m kit stack status shows")
    group.addoption("--kit-private-stack", action="store_true", dest="kit_private_stack",
                    help="a fresh embedded stack for this run only (in the temporary "
                         "directory, deleted after it) instead of the project's")
    group.addoption("--kit-migrations", action="append", default=None, dest="kit_migrations",
                    metavar="PATH", help="apply these .sql files (a folder: its *.sql in name "
                    "order) to the embedded stack once per run, each file once (as kit stack "
                    "migrate); repeatable")


def _reads(kind: str) -> str:
    """``reads API_URL, SERVICE_ROLE_KEY, ...``: the variables ``--kit-target=kind`` reads."""
    from kit.targets import ENV_NAMES

    names = ENV_NAMES[kind]
    key = names.key + (f" (else {names.any_key})" if names.any_key else "")
    return f"reads {', '.join((names.url, key, names.anon_key, names.db_url, JWT_SECRET_ENV[kind]))}"


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    run = KitRun(Asked.from_options(config.option))
    config.stash[_RUN] = run
    config.pluginmanager.register(run, "kit-run")


def _asked_for(item: pytest.Item) -> Asked:
    run_asked = item.config.stash[_RUN].asked
    stalls, capture = item.get_closest_marker("kit_stalls"), item.get_closest_marker("kit_capture")
    if stalls is None and capture is None:
        return run_asked
    try:
        return run_asked.with_marks(stalls, capture)
    except ValueError as exc:  # a bad mark argument: one line on this test
        pytest.fail(str(exc), pytrace=False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    asked = _asked_for(item)
    if not asked.active or not isinstance(item, pytest.Function):
        return (yield)
    findings = Findings(threshold_ms=asked.stalls_ms)
    item.stash[_FINDINGS] = findings
    with contextlib.ExitStack() as undo:
        if asked.stalls_ms is not None and _is_async(item.obj):
            from kit.pytest.stalls import watched

            original = item.obj
            item.obj = watched(original, threshold_ms=asked.stalls_ms, findings=findings)
            undo.callback(setattr, item, "obj", original)
        if asked.capture:
            from kit.pytest.traffic import SitedCapture, recording_supabase_traffic

            findings.capture = undo.enter_context(recording_supabase_traffic(SitedCapture()))
            findings.capture.add_secrets(*_known_secrets(item))
        try:
            result = yield
        except (pytest.skip.Exception, KeyboardInterrupt):
            raise
        except BaseException as exc:
            _add_section(item, findings, exc)
            raise
    failure = _kit_failure(findings, asked)
    if failure:
        item.stash[_FAILED_BY_KIT] = True
        _add_section(item, findings, None)
        pytest.fail(failure, pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        _say_when_the_app_uses_another_stack(item, report)
    findings = item.stash.get(_FINDINGS, None)
    if findings is not None and report.when == "call":
        # plain JSON on the report: pytest-xdist carries it to the controller's summary
        report.kit_digest = findings.to_dict()  # type: ignore[attr-defined]
        report.kit_failed = item.stash.get(_FAILED_BY_KIT, False)  # type: ignore[attr-defined]
    return report


def _say_when_the_app_uses_another_stack(item: pytest.Item, report: pytest.TestReport) -> None:
    import os

    from kit.pytest.sections import other_stack_line

    funcargs = getattr(item, "funcargs", {})
    target = funcargs.get("kit_target") or getattr(funcargs.get("kit_clients"), "target", None)
    target = target or funcargs.get("kit_stack")
    if target is None or not target.is_embedded or not target.stack_dir:
        return
    line = other_stack_line(target.stack_dir, target.url, os.environ)
    if line:
        report.sections.append(("kit: which stack", line))


def _is_async(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) and not hasattr(func, "hypothesis")


def _known_secrets(item: pytest.Item) -> list[str]:
    funcargs = getattr(item, "funcargs", {})
    targets = [funcargs.get(name) for name in ("kit_target", "kit_stack")]
    targets.append(getattr(funcargs.get("kit_clients"), "target", None))
    return [s for t in targets if t is not None
            for s in (t.anon_key, t.service_role_key, t.jwt_secret) if s]


def _kit_failure(findings: Findings, asked: Asked) -> str:
    from kit.pytest import sections

    parts = []
    if findings.stalls and asked.stalls_fail:
        parts.append(sections.stall_failure(findings))
    if findings.silent_html and asked.capture_strict:
        parts.append(sections.silent_html_failure(findings))
    if not parts:
        return ""
    paragraph = _explained(findings, None)
    return "\n\n".join(parts + ([paragraph] if paragraph else []))


def _explained(findings: Findings, exc: BaseException | None) -> str:
    """kit.explain's paragraph for what the test saw, or "" when the kit does not recognise it."""
    from kit.explain import explain
    from kit.pytest import sections

    inputs: list[Any] = [exc] if exc is not None else []
    if findings.stalls:
        inputs += sections.stall_explanation_inputs(findings)
    if findings.silent_html:
        inputs += findings.silent_html
    if not inputs and findings.capture is None:
        return ""
    try:
        explanation = explain(inputs, capture=findings.capture)
    except Exception as broken:  # noqa: BLE001 - the test's own failure must never be masked
        return f"(kit.explain could not explain this: {type(broken).__name__}: {broken})"
    return sections.explanation_paragraph(explanation) if explanation.recognised else ""


def _add_section(item: pytest.Item, findings: Findings, exc: BaseException | None) -> None:
    from kit.pytest import sections

    parts = []
    if exc is not None:
        if findings.stalls:
            parts.append(sections.stall_failure(findings))
        paragraph = _explained(findings, exc)
        if paragraph:
            parts.append(paragraph)
    if findings.capture is not None:
        parts.append(sections.capture_section(findings))
    if parts:
        item.add_report_section("call", "kit", "\n\n".join(parts))


class KitRun:
    """Run-wide state, registered as a plugin object: the request and the summary."""

    def __init__(self, asked: Asked) -> None:
        self.asked = asked
        self.summary = RunSummary()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        digest = getattr(report, "kit_digest", None)
        if digest is not None:
            self.summary.add(report.nodeid, digest, failed_by_kit=bool(getattr(report, "kit_failed", False)))

    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str,
                                location: Any) -> None:
        text = str(warning_message.message)
        if "was never awaited" in text:
            self.summary.add_unawaited(nodeid, text)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        summary = self.summary
        if not (self.asked.active or summary.watched or summary.captured):
            return
        terminalreporter.write_sep("=", "kit: event loop and Supabase traffic")
        for line in summary.lines():
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from kit.pytest.shared_stack import release_after_xdist_run

        release_after_xdist_run(session.config)

"""Pure parts of the report: results, the terminal table, index.html, JUnit, baseline, progress,
and the bundle ``kit.record`` displays."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

import kit
from kit.checks import CHECKS_MIME, Check, Checks
from kit.report.baseline import compare, load_summary
from kit.report.junit import render_junit
from kit.report.progress import LineProgress, make_progress
from kit.report.record import checks_bundle
from kit.report.render import render_index, render_summary_text
from kit.report.results import (
    CELL_ERROR,
    EXECUTED,
    KERNEL_DIED,
    NotebookResult,
    ReportSummary,
    recorded_checks,
)


def summary(*notebooks: NotebookResult) -> ReportSummary:
    return ReportSummary(profile="embedded", target={"kind": "embedded", "url": "http://127.0.0.1:1"},
                         versions={"python": "3.11.7", "supabase-py": "2.34.1"},
                         started="2026-11-22T10:00:00+00:00", duration_s=12.0,
                         notebooks=list(notebooks))


def passing(stall: float = 10.0) -> NotebookResult:
    return NotebookResult("01_storage", EXECUTED, 4.25, [
        Check("bytes are the image", True, "", {"max_stall_ms": stall}),
        Check("broken variant <fails>", True, "returned HTML", expected_failure=True)],
        files={"html": "01_storage.html", "ipynb": "01_storage.ipynb"})


def failing() -> NotebookResult:
    return NotebookResult("02_queue", EXECUTED, 2.0, [Check("no stall", False, "stall 212 ms")])


def died() -> NotebookResult:
    return NotebookResult("03_llm", KERNEL_DIED, 1.0, error="the kernel died: Kernel died")


def test_exit_code_prefers_not_executed_over_failed_checks() -> None:
    assert summary(passing()).exit_code == 0
    assert summary(passing(), failing()).exit_code == 1
    assert summary(passing(), failing(), died()).exit_code == 2
    assert repr(summary(passing(), failing(), died())) == (
        "<ReportSummary 3 notebooks, 3 checks, 1 failed, 1 not executed>")
    assert repr(died()) == "<NotebookResult 03_llm kernel died, 0 checks, 0 failed, 1.0 s>"


def test_summary_round_trips_through_json() -> None:
    original = summary(passing(), died())
    assert ReportSummary.from_dict(original.to_dict()).to_dict() == original.to_dict()


def test_recorded_checks_are_read_from_display_outputs_in_order() -> None:
    first = Checks([Check("a", True)], scenario="storage").to_dict()
    second = Checks([Check("b", False, "why")], scenario="other").to_dict()
    nb = new_notebook(cells=[
        new_code_cell("x", outputs=[new_output("display_data", data={CHECKS_MIME: first,
                                                                     "text/plain": "t"})]),
        new_code_cell("y", outputs=[new_output("stream", name="stdout", text="hi"),
                                    new_output("execute_result", data={CHECKS_MIME: second},
                                               execution_count=2)])])
    scenario, checks = recorded_checks(nb)
    assert scenario == "storage"
    assert [(c.name, c.passed, c.detail) for c in checks] == [("a", True, ""), ("b", False, "why")]


def test_summary_text_table() -> None:
    assert render_summary_text(summary(passing(), failing(), died())).splitlines() == [
        "notebook    status       checks  failed  time",
        "01_storage  executed     2/2     0       4.2 s",
        "02_queue    executed     0/1     1       2.0 s",
        "03_llm      kernel died  0/0     0       1.0 s",
        "  FAIL 02_queue: no stall — stall 212 ms",
        "  03_llm: kernel died: the kernel died: Kernel died",
        "exit 2: a notebook failed to execute"]


def test_index_html_escapes_names_and_shows_status_links_and_versions() -> None:
    page = render_index(summary(passing(), failing(), died()))
    assert "broken variant &lt;fails&gt;" in page and "<fails>" not in page
    assert "(expected failure)" in page
    assert "<a href='01_storage.html'>html</a>" in page
    assert "<span class='error'>kernel died</span>" in page
    assert "<th>supabase-py</th><td>2.34.1</td>" in page
    assert "<strong>exit 2</strong>" in page and "id='baseline'" not in page



@pytest.mark.parametrize("doctor_status", ["warn", "info", "fail"])
def test_the_doctor_section_never_reads_as_the_report_exit_line(doctor_status: str) -> None:
    """The report's own exit line comes first and is the page's only "exit"; a doctor with
    warnings stays closed and calm, a doctor with a failure opens and says so in red."""
    from kit.doctor.model import DoctorCheck, DoctorReport
    from kit.doctor.render import render_html

    found = DoctorReport("/tmp/app", [DoctorCheck("packages", "in /usr/bin/python3", doctor_status, "x"),
                                      DoctorCheck("python", "lowest Python", "ok", "3.10")])
    page = render_index(summary(passing()), environment=render_html(found))
    assert page.count("exit ") == 1 and "<strong>exit 0</strong>" in page
    assert page.index("<strong>exit 0</strong>") < page.index("<section id='doctor'")
    doctor = page[page.index("<section id='doctor'"):page.index("</summary>")]
    if doctor_status == "fail":
        assert "<details open>" in doctor and "1 failed: see the FAIL rows" in doctor
        assert "color:#cf222e" in doctor
    else:
        assert "<details>" in doctor and "nothing failed" in doctor and "failed:" not in doctor


def test_junit_suites_cases_failures_and_errors() -> None:
    root = ET.fromstring(render_junit(summary(passing(), failing(), died())))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["01_storage", "02_queue", "03_llm"]
    failure = suites["02_queue"].find("testcase[@name='no stall']/failure")
    assert failure is not None and failure.get("message") == "stall 212 ms"
    error = suites["03_llm"].find("testcase[@name='execute']/error")
    assert error is not None and error.get("type") == KERNEL_DIED
    assert suites["01_storage"].find(".//failure") is None


def test_compare_finds_flips_and_moved_figures() -> None:
    old = summary(passing(stall=10.0), NotebookResult("02_queue", EXECUTED, 2.0,
                                                      [Check("no stall", True)]), passing_llm())
    new = summary(passing(stall=240.0), failing(), died())
    comparison = compare(old, new, baseline="reports/old")
    assert comparison.newly_failing == [("02_queue", "no stall")]
    assert comparison.newly_not_executed == ["03_llm"]
    assert [(c.figure, c.old, c.new) for c in comparison.figure_changes] == [
        ("max_stall_ms", 10.0, 240.0)]
    assert repr(comparison) == "<Comparison 1 newly failing, 0 newly passing, 1 changed figures>"
    back = compare(new, old)
    assert back.newly_passing == [("02_queue", "no stall")] and back.newly_failing == []
    assert compare(old, summary(passing(stall=12.0))).figure_changes == []  # within noise
    top = render_index(new, comparison).split("<h2>Scenarios")[0]
    assert "newly failing: 02_queue — no stall" in top and "max_stall_ms 10 → 240" in top


def passing_llm() -> NotebookResult:
    return NotebookResult("03_llm", EXECUTED, 1.0, [Check("logged", True)])


def test_load_summary_names_a_missing_baseline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(kit.UsageError, match="has no summary.json. Fix: pass a report directory"):
        load_summary(tmp_path)
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(kit.UsageError, match="is not a kit report summary"):
        load_summary(tmp_path)


def test_line_progress_prints_start_and_finish() -> None:
    out = io.StringIO()
    progress = LineProgress(out, 2)
    progress.started("01_storage")
    progress.advanced("01_storage", 3, 9)
    progress.finished(passing())
    progress.finished(NotebookResult("02_queue", CELL_ERROR, 1.5, error="cell 3: ValueError: x"))
    assert out.getvalue().splitlines() == [
        "[0/2] started  01_storage",
        "[1/2] finished 01_storage: executed, 2/2 checks passed (4.2 s)",
        "[2/2] finished 02_queue: cell error: cell 3: ValueError: x (1.5 s)"]
    with pytest.raises(kit.UsageError, match="unknown progress display 'fancy'; known: bars, lines"):
        make_progress("fancy", out, 1)


def test_bar_progress_draws_bars_and_closes() -> None:
    out = io.StringIO()
    progress = make_progress("bars", out, 1)
    progress.started("01_storage")
    progress.advanced("01_storage", 2, 4)
    progress.finished(passing())
    progress.close()
    assert "01_storage: executed, 2/2 checks passed" in out.getvalue()
    assert "notebooks: 100%" in out.getvalue()


def test_checks_bundle_carries_checks_mime_and_figures() -> None:
    bundle = checks_bundle([Check("a", True), Check("b", False, "why")],
                           figures={"max_stall_ms": 5, "b": {"latency_ms": 7.5}}, scenario="s")
    assert set(bundle) == {CHECKS_MIME, "text/html", "text/plain"}
    assert bundle[CHECKS_MIME] == {"scenario": "s", "checks": [
        {"name": "a", "passed": True, "detail": "", "figures": {"max_stall_ms": 5.0},
         "expected_failure": False},
        {"name": "b", "passed": False, "detail": "why",
         "figures": {"max_stall_ms": 5.0, "latency_ms": 7.5}, "expected_failure": False}]}
    assert bundle["text/plain"].startswith("<Checks 2 checks, 1 failed>")
    assert checks_bundle(Check("one", True))[CHECKS_MIME]["checks"][0]["name"] == "one"
    with pytest.raises(KeyError, match="figures name unknown check"):
        checks_bundle([Check("a", True)], figures={"zz": {"x": 1.0}})
    with pytest.raises(TypeError, match="kit.record takes Check objects, got str"):
        checks_bundle(["a"])  # type: ignore[list-item]
    assert kit.record is kit.report.record

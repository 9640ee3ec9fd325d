"""The interactive panel: real widgets in JupyterLab, inert under papermill / kit report."""

from __future__ import annotations

import pytest

from kit.ui import InertPanel, Panel, headless, panel


def test_panel_is_inert_when_headless_or_disabled():
    ran = []
    for shown in (panel(lambda **kw: ran.append(kw), env={"KIT_HEADLESS": "1"}, mode=["a"]),
                  panel(lambda **kw: ran.append(kw), enabled=False, mode=["a"])):
        assert isinstance(shown, InertPanel)
        assert "Open this notebook in JupyterLab" in shown._repr_mimebundle_()["text/html"]
    assert ran == []
    assert headless({"KIT_HEADLESS": "1"}) and not headless({}) and not headless({"KIT_HEADLESS": "0"})


def test_panel_builds_controls_and_run_replaces_the_output():
    import ipywidgets as widgets

    calls = []
    shown = panel(lambda **kw: calls.append(kw) or f"ran {kw}", env={},
                  implementation=["broken", "to_thread"], concurrency=(1, 32, 8))
    assert isinstance(shown, Panel) and isinstance(shown.widget, widgets.VBox)
    controls, output = shown.widget.children
    dropdown, slider, button = controls.children
    assert dropdown.options == ("broken", "to_thread") and slider.value == 8
    dropdown.value = "to_thread"
    button.click()
    assert calls == [{"implementation": "to_thread", "concurrency": 8}]
    assert isinstance(output, widgets.Output)


def test_panel_starts_from_the_notebooks_parameters_and_never_cuts_a_label():
    shown = panel(lambda **kw: kw, env={}, start={"fault_profile": "my-own-profile", "concurrency": 64},
                  implementation=["broken", "to_thread"], concurrency=(1, 32, 8),
                  fault_profile=["none", "edge-html-200"])
    implementation, concurrency, profile = shown.controls.values()
    assert implementation.value == "broken" and concurrency.value == 64 and concurrency.max == 64
    assert profile.options == ("none", "edge-html-200", "my-own-profile")
    assert profile.value == "my-own-profile"
    assert all(c.style.description_width == "initial" for c in shown.controls.values())
    inert = panel(lambda **kw: kw, enabled=False, start={"fault_profile": "flaky-rpc"}, fault_profile=["none"])
    assert inert._repr_mimebundle_()["text/plain"].endswith("it starts from fault_profile='flaky-rpc'.")


class _Shown:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": "plain", "text/html": "<b>a table of results</b>"}


def test_after_a_run_the_panels_bundle_carries_the_last_result_as_static_html():
    shown = panel(lambda **kw: _Shown(), env={}, fault_profile=["none", "edge-html-200"])
    before = shown._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in before
    assert "press Run" in before["text/html"]
    shown.controls["fault_profile"].value = "edge-html-200"
    shown.button.click()
    after = shown._repr_mimebundle_()
    assert "<b>a table of results</b>" in after["text/html"]
    assert "fault_profile=&#x27;edge-html-200&#x27;" in after["text/html"]


def test_a_scenario_panel_refuses_a_parameter_it_has_no_control_for(stack):
    import kit

    scenario = kit.scenarios.llm_logging(stack)
    assert isinstance(scenario.panel(enabled=False, fault_profile="none"), InertPanel)
    with pytest.raises(kit.UsageError, match="the panel has no control workers"):
        scenario.panel(enabled=False, workers=4)

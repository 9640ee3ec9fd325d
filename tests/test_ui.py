"""The interactive panel: real widgets in JupyterLab, inert under papermill / kit report."""

from __future__ import annotations

from kit.ui import InertPanel, headless, panel


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
    assert isinstance(shown, widgets.VBox)
    controls, output = shown.children
    dropdown, slider, button = controls.children
    assert dropdown.options == ("broken", "to_thread") and slider.value == 8
    dropdown.value = "to_thread"
    button.click()
    assert calls == [{"implementation": "to_thread", "concurrency": 8}]
    assert isinstance(output, widgets.Output)

"""An ipywidgets panel that re-runs a scenario or a diff in place, in JupyterLab.

    kit.ui.panel(scenario.panel_run, implementation=["broken", "to_thread"],
                 concurrency=(1, 32, 8), fault_profile=["none", "edge-html-200"])

Under papermill (the report runner sets ``KIT_HEADLESS=1``) or with ``enabled=False`` the
panel is inert: it displays one line saying where it works, and runs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any


class InertPanel:
    """What ``panel()`` returns when nobody can click: a note, no widgets, no runs."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"<InertPanel: {self.reason}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        note = f"Interactive panel not shown: {self.reason}. Open this notebook in JupyterLab to use it."
        return {"text/plain": note, "text/html": f"<p><i>{note}</i></p>"}


def headless(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("KIT_HEADLESS", "") not in ("", "0", "false")


def panel(run: Callable[..., Any], *, enabled: bool = True, env: Mapping[str, str] | None = None,
          **choices: Any) -> Any:
    """Widgets for ``choices`` (list → dropdown, ``(lo, hi, default)`` → slider) and a Run button
    that displays ``run(**values)`` below it, replacing the previous result."""
    if not enabled:
        return InertPanel("disabled by the notebook's parameters")
    if headless(env):
        return InertPanel("running headless (papermill / kit report)")
    import ipywidgets as widgets
    from IPython.display import display

    controls: dict[str, Any] = {}
    for name, spec in choices.items():
        if isinstance(spec, tuple) and len(spec) == 3:
            low, high, default = spec
            controls[name] = widgets.IntSlider(value=default, min=low, max=high, description=name)
        else:
            options = list(spec)
            controls[name] = widgets.Dropdown(options=options, value=options[0], description=name)
    button = widgets.Button(description="Run", button_style="primary")
    output = widgets.Output()

    def on_click(_: Any) -> None:
        with output:
            output.clear_output(wait=True)
            try:
                display(run(**{name: control.value for name, control in controls.items()}))
            except Exception as exc:  # shown in the panel; the kernel keeps going
                display(_error_view(exc))

    button.on_click(on_click)
    return widgets.VBox([widgets.HBox([*controls.values(), button]), output])


def _error_view(exc: Exception) -> Any:
    try:
        from kit.explain import explain

        return explain(exc)
    except Exception:  # the explainer itself failed: show the error plainly
        return InertPanel(f"{type(exc).__name__}: {exc}")

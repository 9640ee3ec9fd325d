"""An ipywidgets panel that re-runs a scenario or a diff in place, in JupyterLab.

    kit.ui.panel(scenario.panel_run, implementation=["broken", "to_thread"],
                 concurrency=(1, 32, 8), fault_profile=["none", "edge-html-200"])

Under papermill (the report runner sets ``KIT_HEADLESS=1``) or with ``enabled=False`` the
panel is inert: it displays one line saying where it works and what it would start from, and
runs nothing.

``start`` sets the controls' first values (the notebook's own parameters, so the panel reruns
what the notebook just showed); a start value missing from a dropdown is added to it, a slider
widens to hold it. Labels are never cut (``description_width: initial``). After each run the
panel's own output bundle also carries the result as ``text/html``: a saved notebook, read
without a widget manager (nbconvert, a report), shows the last result instead of a blank.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any


class InertPanel:
    """What ``panel()`` returns when nobody can click: a note, no widgets, no runs."""

    def __init__(self, reason: str, start: Mapping[str, Any] | None = None) -> None:
        self.reason = reason
        self.start = dict(start or {})

    def __repr__(self) -> str:
        return f"<InertPanel: {self.reason}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        import html

        note = f"Interactive panel not shown: {self.reason}. Open this notebook in JupyterLab to use it"
        values = ", ".join(f"{k}={v!r}" for k, v in self.start.items())
        note += f"; it starts from {values}." if values else "."
        return {"text/plain": note, "text/html": f"<p><i>{html.escape(note)}</i></p>"}


def headless(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("KIT_HEADLESS", "") not in ("", "0", "false")


def panel(run: Callable[..., Any], *, enabled: bool = True, env: Mapping[str, str] | None = None,
          start: Mapping[str, Any] | None = None, **choices: Any) -> Any:
    """Widgets for ``choices`` (list → dropdown, ``(lo, hi, default)`` → slider) and a Run button
    that displays ``run(**values)`` below it, replacing the previous result. ``start`` gives
    first values by name (see the module docstring). Returns a :class:`Panel` (or an
    :class:`InertPanel` when nobody can click)."""
    start = dict(start or {})
    if not enabled:
        return InertPanel("disabled by the notebook's parameters", start)
    if headless(env):
        return InertPanel("running headless (papermill / kit report)", start)
    return Panel(run, {name: _control(name, spec, start.get(name)) for name, spec in choices.items()})


def _control(name: str, spec: Any, first: Any) -> Any:
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    if isinstance(spec, tuple) and len(spec) == 3:
        low, high, default = spec
        value = default if first is None else int(first)
        return widgets.IntSlider(value=value, min=min(low, value), max=max(high, value),
                                 description=name, style=style)
    options = list(spec)
    if first is not None and first not in options:
        options.append(first)
    return widgets.Dropdown(options=options, value=options[0] if first is None else first,
                            description=name, style=style,
                            layout=widgets.Layout(width="max-content"))


class Panel:
    """The live panel: controls, a Run button and the last result. Displays as the widget
    plus a static ``text/html`` copy of the last result (see the module docstring)."""

    def __init__(self, run: Callable[..., Any], controls: dict[str, Any]) -> None:
        import ipywidgets as widgets

        self.run, self.controls = run, controls
        self.button = widgets.Button(description="Run", button_style="primary")
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([*controls.values(), self.button]), self.output])
        self.last_html = "<p><i>Panel: press Run to see a result here.</i></p>"
        self._handle: Any = None
        self.button.on_click(lambda _: self.click())

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def click(self) -> Any:
        """Run with the current values; show the result (or its explained error) below."""
        from IPython.display import display

        with self.output:
            self.output.clear_output(wait=True)
            try:
                shown = self.run(**self.values)
            except Exception as exc:  # shown in the panel; the kernel keeps going
                shown = _error_view(exc)
            display(shown)
        self.last_html = _static_html(shown, self.values)
        if self._handle is not None:
            self._handle.update(self._repr_mimebundle_(), raw=True)
        return shown

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self._handle = display(self._repr_mimebundle_(), raw=True, display_id=True)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["text/html"] = self.last_html
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"<Panel {values}>"


def _static_html(shown: Any, values: Mapping[str, Any]) -> str:
    import html

    bundle = shown._repr_mimebundle_() if hasattr(shown, "_repr_mimebundle_") else {}
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    body = bundle.get("text/html") or f"<pre>{html.escape(str(bundle.get('text/plain', repr(shown))))}</pre>"
    used = ", ".join(f"{html.escape(k)}={html.escape(repr(v))}" for k, v in values.items())
    return f"<div class='kit-panel-last'><p><i>Last panel run: {used}</i></p>{body}</div>"


def _error_view(exc: Exception) -> Any:
    try:
        from kit.explain import explain

        return explain(exc)
    except Exception:  # the explainer itself failed: show the error plainly
        return InertPanel(f"{type(exc).__name__}: {exc}")

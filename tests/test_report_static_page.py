"""A report page without JupyterLab: widgets from their static copy, the first error page open."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from kit.report.notebook_files import notebook_html
from kit.report.static_page import OFFLINE_NOTE, WIDGET_VIEW, open_first_error_page, without_offline_widgets

PAGE = "<div class='kit-page'>520 · Cloudflare</div><iframe sandbox=\"\" srcdoc=\"x\"></iframe>"


def test_the_first_error_page_and_every_details_around_it_open_the_others_stay_closed():
    page = ("<details><summary>a</summary>closed before</details>"
            f"<details><summary>sync</summary><details class='x'><summary>response 520</summary>{PAGE}"
            f"</details></details><details><summary>async</summary>{PAGE}</details>")
    assert open_first_error_page(page) == (
        "<details><summary>a</summary>closed before</details>"
        f"<details open><summary>sync</summary><details class='x' open><summary>response 520</summary>"
        f"{PAGE}</details></details><details><summary>async</summary>{PAGE}</details>")
    assert open_first_error_page("<details open><summary>s</summary>" + PAGE) == \
        "<details open><summary>s</summary>" + PAGE
    assert open_first_error_page("<p>no page</p>") == "<p>no page</p>"
    nbconvert_quotes = '<details><summary>s</summary><div class="kit-page">520</div></details>'
    assert open_first_error_page(nbconvert_quotes).startswith("<details open><summary>")


def _panel_notebook(metadata: dict | None = None) -> nbformat.NotebookNode:
    data = {WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/html": "<b>last panel result</b>", "text/plain": "<Panel>"}
    only_widget = {WIDGET_VIEW: {"model_id": "def", "version_major": 2, "version_minor": 0}}
    nb = new_notebook(cells=[new_code_cell("scenario.panel()", outputs=[
        new_output("display_data", data=data), new_output("display_data", data=only_widget)])])
    nb.metadata.update(metadata or {})
    return nb


def test_widget_views_give_way_to_their_static_copy_when_no_state_was_saved():
    nb = _panel_notebook()
    static = without_offline_widgets(nb)
    first, second = static.cells[0].outputs
    assert set(first.data) == {"text/html", "text/plain"} and second.data == {"text/plain": OFFLINE_NOTE}
    assert WIDGET_VIEW in nb.cells[0].outputs[0].data  # the notebook itself is unchanged
    saved = _panel_notebook({"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}})
    assert without_offline_widgets(saved) is saved
    page = notebook_html(nb)
    assert "<b>last panel result</b>" in page and "open the notebook in JupyterLab" in page



def test_code_panels_keep_their_indentation_through_nbconvert():
    from kit.scenarios.source import SourceDiff, keep_spaces

    assert keep_spaces("    <b>if</b> x:") == "&nbsp;&nbsp;&nbsp;&nbsp;<b>if</b> x:"
    assert keep_spaces("    bucket <i>=</i> 1") == "    bucket <i>=</i> 1"  # spaces beside text survive
    before = "def f(x):\n    if x:\n        return 1\n    return 2\n"
    after = "def f(x):\n    if not x:\n        raise ValueError(x)\n    return 2\n"
    data = SourceDiff(before, after)._repr_mimebundle_()
    nb = new_notebook(cells=[new_code_cell("diff", outputs=[new_output("display_data", data=data)])])
    page = notebook_html(nb)
    for keyword, depth in (("raise", 8), ("return", 8), ("return", 4), ("if", 4)):
        assert f"\xa0" * depth + f'<span style="color: #007020; font-weight: bold">{keyword}</span>' in page

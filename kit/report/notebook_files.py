"""Turn a raw executed notebook into the files a report keeps: scrubbed ``.ipynb`` and HTML.

    scenario, checks = write_notebook_files(raw, out / "01_x.ipynb", out / "01_x.html", secrets)

The raw notebook (papermill's output) stays in a private temporary folder; only the
scrubbed copies reach the report directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kit.checks import Check
from kit.report.results import recorded_checks
from kit.report.scrub import scrub_notebook, scrub_text


def html_exporter(warm: bool = False) -> Any:
    """nbconvert's lab-template exporter with HTML kept as is (so sandboxed
    ``<iframe srcdoc>`` error pages stay pages); ``warm`` renders a tiny notebook once so
    templates are compiled before the real page is needed."""
    from nbconvert import HTMLExporter
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    exporter = HTMLExporter(template_name="lab")
    exporter.sanitize_html = False
    if warm:
        cell = new_code_cell("x = 1", outputs=[new_output("display_data", data={"text/html": "<b>x</b>"})])
        exporter.from_notebook_node(new_notebook(cells=[new_markdown_cell("# x"), cell]))
    return exporter


def notebook_html(nb: Any, exporter: Any = None) -> str:
    """The notebook as a standalone HTML page: ``notebook_html(nbformat.read(path, 4))``;
    widgets shown from their static copy, the first HTML error page open (kit.report.static_page)."""
    from kit.report.static_page import open_first_error_page, without_offline_widgets

    body, _ = (exporter or html_exporter()).from_notebook_node(without_offline_widgets(nb))
    return open_first_error_page(str(body))


def write_notebook_files(raw: Path, ipynb: Path, html_page: Path,
                         known_secrets: Iterable[str] = (), *,
                         exporter: Any = None) -> tuple[str, list[Check]]:
    """Scrub ``raw``, write it as ``ipynb`` and ``html_page``; return what it recorded."""
    import nbformat

    known = [s for s in known_secrets if s]
    nb = nbformat.read(str(raw), as_version=4)
    scrub_notebook(nb, known)
    ipynb.write_text(nbformat.writes(nb), encoding="utf-8")  # every string already scrubbed
    html_page.write_text(scrub_text(notebook_html(nb, exporter), known), encoding="utf-8")
    return recorded_checks(nb)

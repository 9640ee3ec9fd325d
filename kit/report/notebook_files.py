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


def notebook_html(nb: Any) -> str:
    """The notebook as a standalone HTML page (nbconvert's lab template, HTML kept as is,
    so sandboxed ``<iframe srcdoc>`` error pages stay pages)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.sanitize_html = False
    body, _ = exporter.from_notebook_node(nb)
    return str(body)


def write_notebook_files(raw: Path, ipynb: Path, html_page: Path,
                         known_secrets: Iterable[str] = ()) -> tuple[str, list[Check]]:
    """Scrub ``raw``, write it as ``ipynb`` and ``html_page``; return what it recorded."""
    import nbformat

    known = [s for s in known_secrets if s]
    nb = nbformat.read(str(raw), as_version=4)
    scrub_notebook(nb, known)
    ipynb.write_text(nbformat.writes(nb), encoding="utf-8")  # every string already scrubbed
    html_page.write_text(scrub_text(notebook_html(nb), known), encoding="utf-8")
    return recorded_checks(nb)

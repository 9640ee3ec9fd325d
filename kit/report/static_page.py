"""What a notebook's report page needs that JupyterLab gives for free (pure functions).

    nb = without_offline_widgets(nb)      # a widget's static text/html shows instead of a blank
    page = open_first_error_page(page)    # the first rendered HTML error page is open

A report page has no widget manager: nbconvert picks a widget view over every other type of
an output, and with no saved widget state draws nothing. An output that also holds
``text/html`` (a kit panel's last result) or ``text/plain`` is shown from those instead, and a
bare widget view says where it works.

The kit renders an HTML body (an edge's error page) as ``<div class='kit-page'>`` plus a
sandboxed iframe, inside the collapsed ``<details>`` of its exchange; in a long page the
first one is opened (with every ``<details>`` around it), the others stay collapsed.
"""

from __future__ import annotations

import copy
import re
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PAGE_MARK = re.compile(r"""<div class=["']kit-page["']>""")  # nbconvert rewrites ' as "
OFFLINE_NOTE = "(an interactive widget: open the notebook in JupyterLab to use it)"
_DETAILS = re.compile(r"<details\b[^>]*>|</details\s*>", re.IGNORECASE)


def without_offline_widgets(nb: Any) -> Any:
    """A copy of ``nb`` whose outputs lose their widget view when the notebook saved no
    widget state: what else the output holds shows, or ``OFFLINE_NOTE``; ``nb`` is unchanged."""
    if (nb.get("metadata") or {}).get("widgets"):
        return nb
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data") or {}
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                data.setdefault("text/plain", OFFLINE_NOTE)
    return nb


def open_first_error_page(page: str) -> str:
    """``page`` with the ``<details>`` elements around its first ``kit-page`` opened (the
    same text when there is none, or it is not inside any)."""
    found = PAGE_MARK.search(page)
    if found is None:
        return page
    at = found.start()
    enclosing: list[re.Match[str]] = []
    for tag in _DETAILS.finditer(page, 0, at):
        if tag.group(0).startswith("</"):
            if enclosing:
                enclosing.pop()
        else:
            enclosing.append(tag)
    for tag in reversed(enclosing):  # from the end, so earlier offsets stay right
        opening = tag.group(0)
        if not re.search(r"\bopen\b", opening):
            page = page[:tag.start()] + opening[:-1] + " open>" + page[tag.end():]
    return page

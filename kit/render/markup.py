"""Small HTML building blocks shared by the renderers (escaped, masked, no JavaScript)."""

from __future__ import annotations

import html
from collections.abc import Iterable

from kit.secrets import mask_text

STYLE = ("<style>.kit-r{font-family:system-ui,sans-serif;font-size:13px}"
         ".kit-r pre{background:#f6f8fa;padding:6px;max-height:420px;overflow:auto;"
         "white-space:pre-wrap;word-break:break-all}"
         ".kit-r table{border-collapse:collapse}.kit-r td,.kit-r th{border:1px solid #ddd;"
         "padding:2px 6px;text-align:left;vertical-align:top}"
         ".kit-flag{background:#b00020;color:#fff;border-radius:3px;padding:0 4px;margin-right:4px}"
         ".kit-r mark{background:#ffcc80}.kit-ok{color:#1b5e20}.kit-bad{color:#b00020}</style>")


def esc(text: object, known: Iterable[str] = ()) -> str:
    """Masked, then HTML-escaped text."""
    return html.escape(mask_text(str(text), known))


def pre(text: str, known: Iterable[str] = ()) -> str:
    return f"<pre>{esc(text, known)}</pre>"


def details(summary_html: str, body_html: str, *, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{summary_html}</summary>{body_html}</details>"


def flags_html(flags: Iterable[str]) -> str:
    return "".join(f"<span class='kit-flag'>{html.escape(f)}</span>" for f in flags)


def table(rows: Iterable[tuple[str, str]], known: Iterable[str] = ()) -> str:
    """Two-column table of (name, value); values are masked and escaped."""
    known = tuple(known)
    body = "".join(f"<tr><th>{html.escape(k)}</th><td><code>{esc(v, known)}</code></td></tr>"
                   for k, v in rows)
    return f"<table>{body}</table>"


def wrap(inner: str) -> str:
    """The outer container every top-level render uses (one style block, no scripts)."""
    return f"<div class='kit-r'>{STYLE}{inner}</div>"


def human_size(n: int) -> str:
    """``1536`` → ``'1.5 KiB'``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"

"""Render exchanges and captures: a summary line per exchange, bodies one click away."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from kit.render.body import render_body
from kit.render.markup import details, esc, flags_html, human_size, table, wrap

if TYPE_CHECKING:
    from kit.capture import Capture, Exchange

__all__ = ["render_capture", "render_exchange"]

MAX_ROWS = 500
MAX_DETAILED = 50


def render_exchange(ex: Exchange, *, standalone: bool = True) -> str:
    """One exchange: summary line with flags, then request and response (headers and body)."""
    from kit.flags import flags_for

    known = ex.secrets
    status_class = "kit-ok" if ex.ok else "kit-bad"
    head = (f"<div>{flags_html(flags_for(ex))}<span class='{status_class}'>"
            f"{esc(ex.summary(), known)}</span></div>")
    meta = table([("thread", ex.thread), ("mode", ex.mode or "-"), ("service", ex.service),
                  ("http version", ex.http_version), ("retry attempt", str(ex.retry_attempt)),
                  ("fault rule", ex.fault_rule or "-")], known)
    request = (table(ex.masked_request_headers(), known)
               + (render_body(ex.request_body, ex.request_content_type, known=known)
                  if ex.request_body else "<i>(no request body)</i>"))
    if ex.error is not None and ex.status is None:
        response = f"<div class='kit-bad'>transport error: <code>{esc(ex.error, known)}</code></div>"
    else:
        response = (table(ex.masked_response_headers(), known)
                    + (f"<div class='kit-bad'>then: <code>{esc(ex.error, known)}</code></div>"
                       if ex.error else "")
                    + render_body(ex.response_body, ex.content_type, known=known,
                                  headers=ex.response_headers, status=ex.status))
    inner = (head + details("details", meta) + details("request", request)
             + details(f"response {ex.status if ex.status is not None else '(none)'}", response,
                       open_=True))
    return wrap(inner) if standalone else inner


def render_capture(capture: Capture) -> str:
    """A table of exchanges (first ``MAX_ROWS``), then the first ``MAX_DETAILED`` in full."""
    from kit.flags import flags_for

    exchanges = list(capture)
    if not exchanges:
        return wrap("<i>no exchanges captured</i>")
    rows = []
    for ex in exchanges[:MAX_ROWS]:
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in (
            ex.seq, esc(ex.mode or "-"), esc(ex.thread), ex.method,
            f"<code>{esc(ex.masked_url.split('//', 1)[-1].split('/', 1)[-1][:120], ex.secrets)}</code>",
            ex.status if ex.status is not None else "error", html.escape(ex.content_type or "-"),
            human_size(ex.response_size), f"{ex.duration_ms:.1f}", flags_html(flags_for(ex))))
            + "</tr>")
    header = "".join(f"<th>{h}</th>" for h in ("#", "mode", "thread", "method", "path", "status",
                                              "type", "size", "ms", "flags"))
    more = (f"<div>… {len(exchanges) - MAX_ROWS} more exchanges (use .filter() or .to_frame())"
            "</div>" if len(exchanges) > MAX_ROWS else "")
    detailed = "".join(details(esc(ex.summary(), ex.secrets), render_exchange(ex, standalone=False))
                       for ex in exchanges[:MAX_DETAILED])
    return wrap(f"<div><b>{esc(repr(capture))}</b></div><table><tr>{header}</tr>{''.join(rows)}"
                f"</table>{more}{details('exchanges in full', detailed)}")

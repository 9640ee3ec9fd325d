"""Render any result the kit meets: APIResponse, bytes, exceptions, coroutines, captures..."""

from __future__ import annotations

import html
import inspect
import json
import traceback
from typing import Any

from kit.render.body import render_body, render_json_value
from kit.render.markup import details, esc, flags_html, pre, wrap

__all__ = ["render_exception", "render_value"]

MAX_MESSAGE = 400


def render_value(x: Any) -> str:
    """HTML for a result or an error, with hidden bodies found and flags shown.

    >>> "APIResponse" in render_value(APIResponse(data=[{"id": 1}], count=None))  # doctest: +SKIP
    True
    """
    from kit.capture import Capture, Exchange
    from kit.flags import flags_for
    from kit.render.exchange import render_capture, render_exchange

    if isinstance(x, Exchange):
        return render_exchange(x)
    if isinstance(x, Capture):
        return render_capture(x)
    flags = flags_html(flags_for(x))
    if isinstance(x, BaseException):
        return wrap(flags + render_exception(x))
    if type(x).__name__ in ("APIResponse", "SingleAPIResponse"):
        data = getattr(x, "data", None)
        count = getattr(x, "count", None)
        head = (f"<div>{flags}<b>{type(x).__name__}</b> · data is {type(data).__name__}"
                f"{f' of {len(data)}' if isinstance(data, list) else ''}"
                f"{f' · count {count}' if count is not None else ''}</div>")
        body = (render_body(data) if isinstance(data, str) else render_json_value(data))
        return wrap(head + body)
    if isinstance(x, (bytes, bytearray, memoryview)):
        return wrap(f"<div>{flags}<b>bytes</b></div>" + render_body(bytes(x)))
    if inspect.iscoroutine(x):
        name = getattr(x, "__qualname__", type(x).__name__)
        return wrap(f"<div>{flags}<b>coroutine</b> <code>{html.escape(name)}</code>: it was never "
                    "awaited, so no request was sent. Put <code>await</code> before the call.</div>")
    if isinstance(x, str):
        return wrap(render_body(x, "text/plain"))
    if isinstance(x, (dict, list, tuple, int, float, bool)) or x is None:
        try:
            json.dumps(x)
            return wrap(render_json_value(x))
        except (TypeError, ValueError):
            pass
    bundle = getattr(x, "_repr_mimebundle_", None)
    if callable(bundle):
        rendered = bundle()
        if isinstance(rendered, dict) and "text/html" in rendered:
            return str(rendered["text/html"])
    return wrap(pre(repr(x)))


def render_exception(exc: BaseException) -> str:
    """Type, first line of the message, the hidden bodies rendered, the cause chain, traceback."""
    from kit.bodies import hidden_bodies

    message = str(exc)
    short = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + " …"
    parts = [(f"<div><b>{html.escape(type(exc).__module__)}.{html.escape(type(exc).__name__)}</b>"
             f"</div>{pre(short)}")]
    for body in hidden_bodies(exc):
        parts.append(details(f"body hidden in <code>{html.escape(body.source)}</code>",
                             render_body(body.body, body.content_type, status=body.status),
                             open_=True))
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and cause is not exc:
        parts.append(details(f"caused by {html.escape(type(cause).__name__)}",
                             render_exception(cause) if cause.__cause__ is not exc else ""))
    if exc.__traceback__ is not None:
        lines = "".join(traceback.format_tb(exc.__traceback__)[-8:])
        parts.append(details("traceback (last frames)", f"<pre>{esc(lines)}</pre>"))
    return "".join(parts)

"""What a body really is, from its bytes first and its declared content type second.

    >>> sniff_kind(b"<!DOCTYPE html><html>...", "application/json")
    'html'
"""

from __future__ import annotations

import json

from kit.render.images import image_info
from kit.render.pages import is_html
from kit.render.text import looks_textual

__all__ = ["KINDS", "declared_kind", "sniff_kind"]

KINDS = ("empty", "html", "image", "json", "multipart", "text", "binary")
_JSON_START = tuple(b'{["-0123456789tfn')


def sniff_kind(body: bytes, content_type: str | None = None) -> str:
    """One of ``KINDS``. The bytes win over the header: an HTML page sent as JSON is ``html``."""
    if not body:
        return "empty"
    if is_html(body):
        return "html"
    if image_info(body) is not None:
        return "image"
    ctype = (content_type or "").lower()
    if ctype.startswith("multipart/"):
        return "multipart"
    stripped = body.lstrip()
    if stripped[:1] and stripped[0] in _JSON_START and ("json" in ctype or not ctype
                                                        or ctype.startswith("text/")):
        try:
            json.loads(body)
            return "json"
        except ValueError:
            pass
    return "text" if looks_textual(body) else "binary"


def declared_kind(content_type: str | None) -> str | None:
    """The kind a Content-Type header promises (None when there is no header)."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not ctype:
        return None
    if ctype == "text/html" or ctype == "application/xhtml+xml":
        return "html"
    if "json" in ctype:
        return "json"
    if ctype.startswith("image/"):
        return "image"
    if ctype.startswith("multipart/"):
        return "multipart"
    if ctype.startswith("text/") or ctype in ("application/xml", "application/csv"):
        return "text"
    return "binary"

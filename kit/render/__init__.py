"""Pure renderers: a value in, an HTML string out (escaped, secrets masked, no JavaScript).

    kit.render.render_body(b'{"a": 1}', "application/json")
    kit.render.render_exchange(capture[0])
    kit.render.render_value(exc)          # APIResponse, bytes, exceptions, coroutines...

Bodies are chosen by sniffing the bytes, not by trusting Content-Type: JSON becomes a
collapsible tree, HTML a sandboxed iframe under a summary line (status, title, heading,
edge/gateway and Ray ID), images inline with their dimensions, text with its encoding
(invalid UTF-8 bytes marked), binary as size, sha256 and a hex head, multipart by part.
"""

from __future__ import annotations

from kit.render.body import BODY_RENDERERS, body_renderer, render_body, render_json_value
from kit.render.exchange import render_capture, render_exchange
from kit.render.images import ImageInfo, image_info
from kit.render.pages import PageSummary, is_html, summarize_page
from kit.render.sniff import sniff_kind
from kit.render.text import DecodedText, decode_text
from kit.render.value import render_exception, render_value

__all__ = ["BODY_RENDERERS", "DecodedText", "ImageInfo", "PageSummary", "body_renderer",
           "decode_text", "image_info", "is_html", "render_body", "render_capture",
           "render_exception", "render_exchange", "render_json_value", "render_value",
           "sniff_kind", "summarize_page"]

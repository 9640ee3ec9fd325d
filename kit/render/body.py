"""Render a body (bytes + content type) as HTML: one renderer per kind, in a registry.

    >>> "<details" in render_body(b'{"a": [1, 2]}', "application/json")
    True
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from kit.registry import Registry
from kit.render.images import image_info
from kit.render.markup import details, esc, flags_html, human_size, pre, table
from kit.render.pages import summarize_page
from kit.render.sniff import KINDS, declared_kind, sniff_kind
from kit.render.text import decode_text
from kit.secrets import MASK, is_secret_field, mask_bytes, mask_text

__all__ = ["BODY_RENDERERS", "body_renderer", "render_body", "render_json_value"]

BodyRenderer = Callable[[bytes, str, tuple[str, ...], tuple[tuple[str, str], ...]], str]
BODY_RENDERERS: Registry[BodyRenderer] = Registry("body renderer", replace=True)

MAX_TEXT = 100_000
MAX_INLINE_IMAGE = 5 * 1024 * 1024
MAX_JSON_ITEMS = 200


register = BODY_RENDERERS.register


def body_renderer(kind: str) -> BodyRenderer:
    """The renderer for a kind; an unknown kind raises UsageError listing the known ones."""
    return BODY_RENDERERS.get_or_fail(kind)


def render_body(body: bytes | str, content_type: str | None = None, *, known: Iterable[str] = (),
                headers: Iterable[tuple[str, str]] = (), status: int | None = None) -> str:
    """HTML for a body, chosen by sniffing the bytes, with the declared type noted when it lies."""
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    ctype = content_type or ""
    kind = sniff_kind(data, ctype)
    promised = declared_kind(ctype)
    note = ""
    if promised and promised != kind and kind not in ("empty",) and not (
            promised == "text" and kind == "json") and not (promised == "binary" and kind == "image"):
        note = (f"{flags_html(['content_type_mismatch'])} declared <code>{html.escape(ctype)}</code>"
                f", the bytes are {kind}<br>")
    header = (f"<div><b>{kind}</b> · {human_size(len(data))}"
              f"{' · <code>' + html.escape(ctype) + '</code>' if ctype else ''}</div>")
    inner = body_renderer(kind)(data, ctype, tuple(known), tuple(headers))
    if kind == "html" and status is not None:
        inner = inner.replace("<div class='kit-page'>", f"<div class='kit-page'>HTTP {status} · ", 1)
    return header + note + inner


@register("empty")
def _empty(data: bytes, ctype: str, known: tuple[str, ...], headers: Any) -> str:
    return "<i>(empty body)</i>"


@register("json")
def _json(data: bytes, ctype: str, known: tuple[str, ...], headers: Any) -> str:
    return render_json_value(json.loads(data), known)


def render_json_value(value: Any, known: Iterable[str] = (), *, label: str = "") -> str:
    """A collapsible tree: containers are ``<details>`` (open at the top), leaves are masked."""
    return _tree(value, label, 0, tuple(known))


def _tree(value: Any, label: str, depth: int, known: tuple[str, ...]) -> str:
    name = f"<b>{esc(label, known)}</b>: " if label else ""
    if isinstance(value, dict):
        items = list(value.items())
        summary = f"{name}{{…}} {len(items)} key{'s' * (len(items) != 1)}"
    elif isinstance(value, list):
        items = list(enumerate(value))
        summary = f"{name}[…] {len(items)} item{'s' * (len(items) != 1)}"
    else:
        shown = MASK if is_secret_field(label) and value not in (None, "") else value
        return f"<div>{name}<code>{esc(json.dumps(shown, ensure_ascii=False), known)}</code></div>"
    children = "".join(_tree(v, str(k), depth + 1, known) for k, v in items[:MAX_JSON_ITEMS])
    if len(items) > MAX_JSON_ITEMS:
        children += f"<div>… {len(items) - MAX_JSON_ITEMS} more</div>"
    return details(summary, f"<div style='margin-left:1.2em'>{children}</div>", open_=depth < 2)


@register("html")
def _html(data: bytes, ctype: str, known: tuple[str, ...], headers: Any) -> str:
    page = mask_text(decode_text(data).text, known)
    summary = summarize_page(page, headers)
    frame = (f"<iframe sandbox=\"\" srcdoc=\"{html.escape(page[:MAX_TEXT], quote=True)}\" "
             "style='width:100%;height:260px;border:1px solid #bbb'></iframe>")
    source = details("page source", f"<pre>{html.escape(page[:MAX_TEXT])}</pre>")
    return f"<div class='kit-page'>{esc(summary.line() or 'HTML page', known)}</div>{frame}{source}"


@register("image")
def _image(data: bytes, ctype: str, known: tuple[str, ...], headers: Any) -> str:
    info = image_info(data)
    assert info is not None
    size = f"{info.width}×{info.height}" if info.width else "size unknown"
    line = f"<div>{info.format.upper()} image, {size}, {human_size(len(data))}</div>"
    if len(data) > MAX_INLINE_IMAGE:
        return line + "<i>(too large to show inline)</i>"
    uri = f"data:{info.mime};base64,{base64.b64encode(data).decode()}"
    return line + f"<img src='{uri}' style='max-width:420px;max-height:320px' alt='{info.format}'>"


@register("text")
def _text(data: bytes, ctype: str, known: tuple[str, ...], headers: Any) -> str:
    decoded = decode_text(data[:MAX_TEXT])
    more = f"<div>… {human_size(len(data) - MAX_TEXT)} more</div>" if len(data) > MAX_TEXT else ""
    if not decoded.invalid_offsets:
        return pre(decoded.text, known) + more
    offsets = decoded.invalid_offsets
    shown = ", ".join(map(str, offsets[:12])) + (" …" if len(offsets) > 12 else "")
    note = (f"<div>{flags_html(['invalid_utf8'])} not valid UTF-8: {len(offsets)} byte(s) at "
            f"offset(s) {shown}; shown as {decoded.encoding} and <mark>marked</mark></div>")
    runs = "".join(f"<mark title='not UTF-8'>{esc(text, known)}</mark>" if bad else esc(text, known)
                   for text, bad in decoded.segments)
    return note + f"<pre>{runs}</pre>" + more


@register("binary")
def _binary(data: bytes, ctype: str, known: tuple[str, ...], headers: Any) -> str:
    digest = hashlib.sha256(data).hexdigest()
    head = mask_bytes(data[:256], known)
    lines = []
    for offset in range(0, len(head), 16):
        chunk = head[offset:offset + 16]
        ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {chunk.hex(' '):<47}  {ascii_}")
    return (f"<div>{human_size(len(data))} · sha256 <code>{digest}</code></div>"
            f"<pre>{html.escape(chr(10).join(lines))}</pre>")


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@register("multipart")
def _multipart(data: bytes, ctype: str, known: tuple[str, ...], headers: Any) -> str:
    match = _BOUNDARY.search(ctype)
    if not match:
        return "<div>multipart body without a boundary</div>" + _binary(data, ctype, known, headers)
    parts = []
    for raw in data.split(b"--" + match.group(1).encode())[1:]:
        if raw.startswith(b"--"):
            break
        head, _, body = raw.strip(b"\r\n").partition(b"\r\n\r\n")
        part_headers = [(name.strip(), value.strip()) for name, _, value in
                        (line.partition(":") for line in head.decode("latin-1").split("\r\n"))
                        if value]
        part_type = next((v for k, v in part_headers if k.lower() == "content-type"), "")
        parts.append(table(part_headers, known)
                     + render_body(body.removesuffix(b"\r\n"), part_type, known=known))
    return (f"<div>{len(parts)} part(s)</div>"
            + "".join(details(f"part {i + 1}", p, open_=True) for i, p in enumerate(parts)))


assert set(BODY_RENDERERS) == set(KINDS)

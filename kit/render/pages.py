"""Read an HTML error page: its title, main heading, and which edge or gateway made it.

    >>> s = summarize_page('<title>example.com | 524: A timeout occurred</title>'
    ...                    '<span>Cloudflare Ray ID: <strong>8a1b2c3d4e5f6a7b</strong></span>')
    >>> s.gateway, s.ray_id, s.edge_code
    ('cloudflare', '8a1b2c3d4e5f6a7b', 524)
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PageSummary", "is_html", "summarize_page"]

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_H2 = re.compile(r"<h2[^>]*>(.*?)</h2>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_RAY = re.compile(r"Ray ID:?\s*(?:<[^>]+>\s*)*([0-9a-f]{16})", re.IGNORECASE)
_CODE = re.compile(r"\b(?:Error(?:\s+code)?|error code:?)\s*(\d{3,4})\b", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|title|h1|center)\b",
                         re.IGNORECASE | re.DOTALL)
# (gateway, header or page evidence) in the order they are checked
_GATEWAYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cloudflare", re.compile(r"cloudflare|cf-ray|cf-error|Ray ID", re.IGNORECASE)),
    ("kong", re.compile(r"\bkong\b|An invalid response was received from the upstream server", re.IGNORECASE)),
    ("openresty", re.compile(r"openresty", re.IGNORECASE)),
    ("nginx", re.compile(r"\bnginx\b", re.IGNORECASE)),
    ("envoy", re.compile(r"\benvoy\b|upstream connect error", re.IGNORECASE)),
    ("aws-elb", re.compile(r"awselb|\bELB\b", re.IGNORECASE)),
    ("varnish", re.compile(r"varnish", re.IGNORECASE)),
    ("vercel", re.compile(r"vercel", re.IGNORECASE)),
)


@dataclass(frozen=True)
class PageSummary:
    title: str | None
    heading: str | None
    gateway: str | None     # cloudflare, kong, nginx, openresty, envoy, aws-elb, varnish, vercel
    ray_id: str | None      # Cloudflare's Ray ID (from the page or the cf-ray header)
    edge_code: int | None   # the code printed on the page (520, 1015, ...)

    def line(self, status: int | None = None) -> str:
        """``HTTP 524 · cloudflare · error 524 · "A timeout occurred" · Ray ID 8a1b…``."""
        parts = [f"HTTP {status}" if status is not None else None, self.gateway,
                 f"error {self.edge_code}" if self.edge_code else None,
                 f'"{self.title}"' if self.title else None,
                 f'heading "{self.heading}"' if self.heading and self.heading != self.title else None,
                 f"Ray ID {self.ray_id}" if self.ray_id else None]
        return " · ".join(p for p in parts if p)


def is_html(data: bytes | str) -> bool:
    """True when the bytes start like an HTML document (doctype, <html>, <head>, <title>...)."""
    head = data[:2048].encode("utf-8", "replace") if isinstance(data, str) else data[:2048]
    return bool(_HTML_START.match(head.lstrip(b"\xef\xbb\xbf")))


def summarize_page(page: str, headers: Iterable[tuple[str, str]] = ()) -> PageSummary:
    """Title, heading, gateway, Ray ID and edge error code of an HTML page (and its headers)."""
    headers = [(k.lower(), v) for k, v in headers]
    title = _clean(_first(_TITLE, page))
    heading = _clean(_first(_H1, page) or _first(_H2, page))
    header_text = " ".join(f"{k}: {v}" for k, v in headers if k in ("server", "via", "cf-ray",
                                                                   "x-kong-proxy-latency"))
    gateway = next((name for name, pat in _GATEWAYS if pat.search(header_text)), None) or next(
        (name for name, pat in _GATEWAYS if pat.search(page)), None)
    ray = _first(_RAY, page) or next((v.split("-")[0] for k, v in headers if k == "cf-ray"), None)
    code_text = _first(_CODE, _TAG.sub(" ", (title or "") + " " + page[:20000]))
    code = int(code_text) if code_text else _title_code(title)
    return PageSummary(title, heading, gateway, ray, code)


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def _clean(fragment: str | None) -> str | None:
    if not fragment:
        return None
    text = " ".join(html.unescape(_TAG.sub(" ", fragment)).split())
    return text[:200] or None


def _title_code(title: str | None) -> int | None:
    match = re.search(r"\b([45]\d\d|10\d\d)\b", title or "")
    return int(match.group(1)) if match else None

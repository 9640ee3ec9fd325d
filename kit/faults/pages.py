"""Edge error pages: our own templates, written to read like the real ones (pure rendering).

    page = PAGES["cloudflare-520"]
    status, headers, body = page.render(ray_id="8c2f5a3b9d1e4f67", host="abc.supabase.co", when=0.0)

Each page carries the status and headers its edge sends (``server: cloudflare`` and a
``cf-ray``; ``server: kong/...``; ``server: nginx``), a title, a heading, the error code,
a Ray / request ID and the edge's name, so explainers recognise them like the real pages.
Add one with ``register_page(PageTemplate(...))``.
"""

from __future__ import annotations

import html
import string
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from kit.faults.errors import FaultRuleError

COLO = "FRA"  # the Cloudflare data centre named in cf-ray headers


def _cloudflare_headers(ray_id: str) -> list[tuple[str, str]]:
    return [("content-type", "text/html; charset=UTF-8"), ("server", "cloudflare"),
            ("cf-ray", f"{ray_id}-{COLO}"),
            ("cache-control", ("private, max-age=0, no-store, no-cache, must-revalidate, "
                               "post-check=0, pre-check=0")),
            ("expires", "Thu, 01 Jan 1970 00:00:01 GMT"), ("referrer-policy", "same-origin"),
            ("x-frame-options", "SAMEORIGIN")]


def _kong_headers(ray_id: str) -> list[tuple[str, str]]:
    return [("content-type", "text/html; charset=utf-8"), ("server", "kong/2.8.1"),
            ("x-kong-response-latency", "0")]


def _nginx_headers(ray_id: str) -> list[tuple[str, str]]:
    return [("content-type", "text/html"), ("server", "nginx")]


EDGE_HEADERS = {"cloudflare": _cloudflare_headers, "kong": _kong_headers, "nginx": _nginx_headers}


@cache
def _template(file: str) -> string.Template:
    # bytes, not read_text(): universal newlines would turn nginx's CRLF into LF
    text = resources.files("kit.faults").joinpath("templates").joinpath(file).read_bytes().decode()
    return string.Template(text)


@dataclass(frozen=True)
class PageTemplate:
    """One edge error page: ``PAGES["nginx-502"].render(ray_id=..., host=..., when=...)``."""

    name: str
    edge: str  # cloudflare | kong | nginx: decides the headers
    status: int
    reason: str
    file: str
    fields: dict[str, str] = field(default_factory=dict)

    def render(self, *, ray_id: str, host: str, when: float,
               status: int | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        """The page as ``(status, headers, body)``; ``status`` overrides the edge's (e.g. 200)."""
        values = {"ray_id": ray_id, "host": host or "localhost", "code": str(self.status),
                  "reason": self.reason, "colo": COLO,
                  "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when)), **self.fields}
        body = _template(self.file).substitute({k: html.escape(v, quote=True) for k, v in values.items()})
        return (self.status if status is None else status), EDGE_HEADERS[self.edge](ray_id), body.encode()


PAGES: dict[str, PageTemplate] = {}


def register_page(page: PageTemplate) -> PageTemplate:
    """Add an edge page to the registry under ``page.name``."""
    if page.edge not in EDGE_HEADERS:
        raise FaultRuleError(f"unknown edge {page.edge!r}; known: {', '.join(EDGE_HEADERS)}")
    PAGES[page.name] = page
    return page


def page_named(name: str) -> PageTemplate:
    """The registered page called ``name``, or an error listing the known pages."""
    try:
        return PAGES[name]
    except (KeyError, TypeError):
        raise FaultRuleError(f"unknown html_page {name!r}; known: {', '.join(PAGES)}",
                             fix="use one of the known page names") from None


_TRY_AGAIN = ("If you are a visitor of this website: please try again in a few minutes. "
              "If you own it: check your origin server and its logs.")
_CLOUDFLARE_5XX = {
    520: ("Web server is returning an unknown error",
          ("There is an unknown connection issue between Cloudflare and the origin web server. "
           "As a result, the web page can not be displayed.")),
    521: ("Web server is down",
          "The web server is not returning a connection. As a result, the web page is not displaying."),
    522: ("Connection timed out",
          ("The initial connection between Cloudflare's network and the origin web server timed out. "
           "As a result, the web page can not be displayed.")),
    524: ("A timeout occurred",
          ("Cloudflare was able to complete a TCP connection to the origin server, "
           "but did not receive a timely HTTP response.")),
}
for _code, (_title, _happened) in _CLOUDFLARE_5XX.items():
    register_page(PageTemplate(f"cloudflare-{_code}", "cloudflare", _code, _title, "cloudflare_5xx.html",
                               {"title": _title, "what_happened": _happened, "what_to_do": _TRY_AGAIN}))
register_page(PageTemplate("cloudflare-1015", "cloudflare", 429, "Too Many Requests", "cloudflare_1015.html"))
register_page(PageTemplate("kong-502", "kong", 502, "Bad Gateway", "kong.html",
                           {"message": "An invalid response was received from the upstream server."}))
register_page(PageTemplate("nginx-502", "nginx", 502, "Bad Gateway", "nginx.html"))
register_page(PageTemplate("nginx-504", "nginx", 504, "Gateway Time-out", "nginx.html"))
register_page(PageTemplate("supabase-paused", "cloudflare", 540, "Project Paused", "supabase_paused.html"))

"""A tiny HTTP server on 127.0.0.1 that answers like a broken edge: hand-written HTML error
pages (200 and 5xx), truncated bodies and wrong content types.

The case is picked by the table name (``/rest/v1/<case>``) or the bucket name
(``/storage/v1/object/<case>/...``, ``/storage/v1/object/list/<case>``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CLOUDFLARE_524 = """<!DOCTYPE html>
<html lang="en-US"><head><title>abcd.supabase.co | 524: A timeout occurred</title></head>
<body><div id="cf-wrapper"><h1><span class="inline-block">A timeout occurred</span>
<span class="code-label">Error code 524</span></h1>
<p>The origin web server timed out responding to this request.</p>
<div class="cf-error-footer"><span>Cloudflare Ray ID: <strong class="font-semibold">8a1b2c3d4e5f6a7b</strong></span>
<span>Performance &amp; security by Cloudflare</span></div></div></body></html>"""

CLOUDFLARE_520 = CLOUDFLARE_524.replace("524: A timeout occurred", "520: Web server is returning "
                                        "an unknown error").replace("Error code 524", "Error code 520")

CLOUDFLARE_1015 = """<!DOCTYPE html><html><head><title>Access denied | abcd.supabase.co used Cloudflare to restrict access</title></head>
<body><h1>Error 1015</h1><h2>You are being rate limited</h2>
<p>The owner of this website (abcd.supabase.co) has banned you temporarily from accessing this website.</p>
<p>Cloudflare Ray ID: <strong>0123456789abcdef</strong></p></body></html>"""

KONG_502 = """<!doctype html>
<html><head><meta charset="utf-8"><title>Error</title></head>
<body><h1>Error</h1><p>An invalid response was received from the upstream server.</p>
<p>request_id: 3f2a</p></body></html>"""

NGINX_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n"
             "</body>\r\n</html>\r\n")

PAUSED_200 = """<!DOCTYPE html><html><head><title>Project paused | Supabase</title></head>
<body><h1>This project is paused</h1><p>Restore it from the dashboard.</p></body></html>"""

WEB_APP_404 = """<!DOCTYPE html><html><head><title>404: This page could not be found.</title></head>
<body><div id="__next"><h1>404</h1><h2>This page could not be found.</h2></div></body></html>"""

PNG_1x1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f5d0a7"
                        "0000000049454e44ae426082")

# case -> (status, content type, body, extra headers)
CASES: dict[str, tuple[int, str, bytes, dict[str, str]]] = {
    "html200": (200, "text/html; charset=utf-8", PAUSED_200.encode(), {}),
    "cf524": (524, "text/html; charset=UTF-8", CLOUDFLARE_524.encode(),
              {"Server": "cloudflare", "CF-RAY": "8a1b2c3d4e5f6a7b-FRA"}),
    "cf520": (520, "text/html; charset=UTF-8", CLOUDFLARE_520.encode(), {"Server": "cloudflare"}),
    "cf1015": (429, "text/html; charset=UTF-8", CLOUDFLARE_1015.encode(), {"Server": "cloudflare"}),
    "kong502": (502, "text/html; charset=utf-8", KONG_502.encode(), {"Server": "kong/2.8.1"}),
    "nginx502": (502, "text/html", NGINX_502.encode(), {"Server": "nginx/1.25.3"}),
    "json500": (500, "application/json",
                b'{"code":"XX000","message":"internal","details":null,"hint":null}', {}),
    "wrongtype": (200, "text/html; charset=utf-8", b'[{"id": 1, "name": "a"}]', {}),
    "png": (200, "application/json", PNG_1x1, {}),
    "rows": (200, "application/json", b'[{"id": 1}]', {}),
    "uploaded": (200, "application/json", b'{"Key": "uploaded/b.png", "Id": "0f0e"}', {}),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[0] not in ("rest", "storage", "auth"):  # a web app or the dashboard, not an API
            self._send(404, "text/html; charset=utf-8", WEB_APP_404.encode(), {"X-Powered-By": "Next.js"})
            return
        # rest/v1/<case> · storage/v1/object/<case>/... · storage/v1/object/list/<case>
        if len(parts) < 3:  # "/rest/v1/" itself: a site's HTML page, not the API
            parts = ["rest", "v1", "html200"]
        case = parts[2] if parts[0] == "rest" else (parts[4] if parts[3] in ("list", "info")
                                                   else parts[3])
        if case == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'[{"id": 1, "payload": "' + b"x" * 50)
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(*CASES[case])

    def _send(self, status: int, ctype: str, body: bytes, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PATCH = do_DELETE = _answer


@pytest.fixture(scope="session")
def edge_url() -> Iterator[str]:
    """``http://127.0.0.1:<port>``: a fake Supabase URL whose edge returns broken answers."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="edge-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()

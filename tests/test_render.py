"""kit.render: pure renderers, value in, HTML out; bodies chosen by sniffing the bytes."""

from __future__ import annotations

import io
import json

import pytest
from edge_server import CLOUDFLARE_524, CLOUDFLARE_1015, KONG_502, NGINX_502
from PIL import Image

from kit.errors import UsageError
from kit.render import (
    body_renderer,
    decode_text,
    image_info,
    render_body,
    render_value,
    sniff_kind,
    summarize_page,
)

CSV_CP1252 = "Société,Montréal\nCafé,Genève\n".encode("cp1252")


def image_bytes(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_image_dimensions_parsed_without_pillow(fmt: str) -> None:
    data = image_bytes(fmt, (37, 21))
    info = image_info(data)
    assert info is not None and (info.format, info.width, info.height) == (fmt.lower(), 37, 21)
    html = render_body(data, "application/octet-stream")
    assert f"{fmt} image, 37×21" in html and f"data:image/{fmt.lower()};base64," in html


def test_lossless_webp_dimensions() -> None:
    out = io.BytesIO()
    Image.new("RGB", (300, 7)).save(out, format="WEBP", lossless=True)
    info = image_info(out.getvalue())
    assert info is not None and (info.width, info.height) == (300, 7)


def test_json_is_a_collapsible_tree() -> None:
    html = render_body(json.dumps({"rows": [{"id": 1}, {"id": 2}]}).encode(), "application/json")
    assert html.startswith("<div><b>json</b>")
    assert "<details open><summary>{…} 1 key</summary>" in html
    assert "<b>rows</b>: […] 2 items" in html


@pytest.mark.parametrize(("page", "headers", "line"), [
    (CLOUDFLARE_524, [("server", "cloudflare")],
     ('HTTP 524 · cloudflare · error 524 · "abcd.supabase.co | 524: A timeout occurred" · heading '
      '"A timeout occurred Error code 524" · Ray ID 8a1b2c3d4e5f6a7b')),
    (CLOUDFLARE_1015, [], 'HTTP 429 · cloudflare · error 1015'),
    (KONG_502, [("server", "kong/2.8.1")], 'HTTP 502 · kong · "Error"'),
    (NGINX_502, [], 'HTTP 502 · nginx · error 502 · "502 Bad Gateway"'),
])
def test_html_page_summary_names_the_edge(page: str, headers: list[tuple[str, str]],
                                          line: str) -> None:
    status = int(line.split()[1])
    assert summarize_page(page, headers).line(status).startswith(line)
    html = render_body(page.encode(), "text/html", headers=headers, status=status)
    assert '<iframe sandbox=""' in html and "allow-scripts" not in html
    assert "srcdoc=\"&lt;" in html  # the page is escaped into srcdoc, never inlined


def test_html_sent_as_json_is_shown_as_html_with_the_mismatch() -> None:
    html = render_body(KONG_502.encode(), "application/json")
    assert sniff_kind(KONG_502.encode(), "application/json") == "html"
    assert "content_type_mismatch" in html and "<iframe" in html


def test_cp1252_csv_is_decoded_with_invalid_utf8_bytes_marked() -> None:
    decoded = decode_text(CSV_CP1252)
    assert decoded.encoding == "cp1252"
    assert decoded.text == "Société,Montréal\nCafé,Genève\n"
    assert decoded.invalid_offsets == (4, 6, 13, 20, 25)
    html = render_body(CSV_CP1252, "text/csv")
    assert "not valid UTF-8: 5 byte(s) at offset(s) 4, 6, 13, 20, 25; shown as cp1252" in html
    assert "Soci<mark title='not UTF-8'>é</mark>t" in html


def test_binary_shows_size_sha256_and_hex_head() -> None:
    data = bytes(range(256)) * 4
    html = render_body(data, "application/octet-stream")
    assert "1.0 KiB · sha256 <code>" in html
    assert "00000000  00 01 02 03" in html


def test_multipart_request_body_is_split_into_parts() -> None:
    png = image_bytes("PNG", (3, 2))
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"cacheControl\"\r\n\r\n3600\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + png + b"\r\n--XyZ--\r\n")
    html = render_body(body, "multipart/form-data; boundary=XyZ")
    assert "2 part(s)" in html and "PNG image, 3×2" in html and "3600" in html


def test_unknown_renderer_lists_known_ones() -> None:
    with pytest.raises(UsageError, match="use one of: binary, empty, html, image, json"):
        body_renderer("pdf")


def test_render_value_of_bytes_and_plain_values() -> None:
    assert "html_where_bytes_expected" in render_value(NGINX_502.encode())
    assert "<b>a</b>: <code>1</code>" in render_value({"a": 1})
    assert "<pre>" in render_value(object())

"""kit.capture: exchanges recorded by the real clients; views and exports never show a secret."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from edge_server import PNG_1x1, edge_url  # noqa: F401  (edge_url is a fixture)
from postgrest.exceptions import APIError
from tests_support_png import PNG

import kit
from kit.capture import Capture, capture_mode
from kit.secrets import JWT_PATTERN
from kit.targets import Target

JWT_ANON = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoiYW5vbiJ9", "YW5vbi1zaWduYXR1cmUtYnl0ZXM"])  # fake
JWT_SERVICE = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoic2VydmljZV9yb2xlIn0", "c2VydmljZS1zaWduYXR1cmU"])  # fake


@pytest.fixture
def edge_clients(edge_url: str) -> Iterator[kit.Clients]:  # noqa: F811
    c = kit.clients(Target("remote", edge_url, JWT_ANON, JWT_SERVICE), retry=False)
    yield c
    c.close()


def _fill(c: kit.Clients) -> None:
    """A run against the broken edge: HTML 200, a 524 page, a URL token, a body with a JWT."""
    with capture_mode("sync"):
        c.sync.table("html200").select("*").execute()
        with pytest.raises(APIError):
            c.sync.table("cf524").select("*").eq("token", JWT_SERVICE).execute()
        c.sync.table("rows").insert({"access_token": JWT_SERVICE, "note": "x"}).execute()
        c.sync.storage.from_("png").download("a.png")
        c.sync.storage.from_("uploaded").upload("b.png", PNG, {"content-type": "image/png"})


def test_views_filters_and_flags(edge_clients: kit.Clients) -> None:
    _fill(edge_clients)
    cap = edge_clients.capture
    assert len(cap) == 5 and repr(cap) == "<Capture 5 exchanges, 1 not ok, rest/storage>"
    assert [ex.service for ex in cap] == ["rest", "rest", "rest", "storage", "storage"]
    assert len(cap.filter(service="rest", status=200)) == 2
    assert len(cap.filter(method="post")) == 2
    assert len(cap.filter(mode="to_thread")) == 0
    assert len(cap.filter(predicate=lambda ex: ex.status == 524)) == 1
    assert kit.flags_for(cap[0]) == ["html_where_json_expected"]
    assert kit.flags_for(cap[1]) == ["html_error_page"]
    assert cap[3].response_body == PNG_1x1
    assert PNG in cap[4].request_body  # the multipart upload, kept whole
    assert "PNG image, 40×30" in kit.render.render_exchange(cap[4])
    frame = cap.to_frame()
    assert list(frame["status"]) == [200, 524, 200, 200, 200]
    assert frame.loc[0, "flags"] == "html_where_json_expected"
    cap.clear()
    assert len(cap) == 0


def test_no_secret_survives_in_any_view_or_export(edge_clients: kit.Clients,
                                                 tmp_path: Path) -> None:
    _fill(edge_clients)
    cap = edge_clients.capture
    assert any(JWT_SERVICE in ex.url or JWT_SERVICE.encode() in ex.request_body for ex in cap)
    outputs = [repr(cap), cap._repr_mimebundle_()["text/html"], cap.to_frame().to_string(),
               cap.to_frame().to_json(date_format="iso"), json.dumps(cap.to_har()),
               cap.save_har(tmp_path / "run.har").read_text(),
               repr(edge_clients), edge_clients._repr_mimebundle_()["text/html"],
               kit.explain(cap).text(), kit.explain(cap)._repr_mimebundle_()["text/html"]]
    outputs += [repr(ex) + ex._repr_mimebundle_()["text/html"] for ex in cap]
    for text in outputs:
        for secret in (JWT_ANON, JWT_SERVICE, "YW5vbi1zaWduYXR1cmUtYnl0ZXM"):
            assert secret not in text
        assert JWT_PATTERN.search(text) is None


def test_har_is_valid_har_1_2(edge_clients: kit.Clients) -> None:
    _fill(edge_clients)
    har = edge_clients.capture.to_har()
    assert har["log"]["version"] == "1.2" and har["log"]["creator"]["name"]
    entries = har["log"]["entries"]
    assert len(entries) == 5
    for entry in entries:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", entry["startedDateTime"])
        assert set(entry) >= {"startedDateTime", "time", "request", "response", "cache", "timings"}
        request, response = entry["request"], entry["response"]
        assert set(request) >= {"method", "url", "httpVersion", "headers", "queryString",
                                "cookies", "headersSize", "bodySize"}
        assert set(response) >= {"status", "statusText", "httpVersion", "headers", "cookies",
                                 "content", "redirectURL", "headersSize", "bodySize"}
        assert entry["time"] == entry["timings"]["wait"] >= 0
        assert {"size", "mimeType"} <= set(response["content"])
    assert entries[1]["response"]["statusText"] == "" and entries[1]["response"]["status"] == 524
    assert entries[1]["request"]["queryString"][1] == {"name": "token", "value": "[masked]"}
    png_entry = entries[3]["response"]["content"]
    assert png_entry["encoding"] == "base64" and png_entry["size"] == len(PNG_1x1)
    upload = entries[4]["request"]["postData"]
    assert upload["mimeType"].startswith("multipart/form-data") or upload["mimeType"] == "image/png"
    assert upload["encoding"] == "base64" and PNG in base64.b64decode(upload["text"])
    assert "encoding" not in entries[0]["response"]["content"]  # text stays text


def test_large_bodies_spill_to_the_captures_file_and_har_streams(edge_url: str,  # noqa: F811
                                                                 tmp_path: Path) -> None:
    cap = Capture(spill_above=16)
    c = kit.clients(Target("remote", edge_url, JWT_ANON, JWT_SERVICE), retry=False, capture=cap)
    try:
        _fill(c)
    finally:
        c.close()
    png = cap[3]
    assert png.response_content.spilled and png.response_body == PNG_1x1
    assert png.response_size == len(PNG_1x1) and PNG in cap[4].request_body
    assert cap[4].request_content.spilled and not cap[1].request_content  # no body: nothing kept
    assert cap.filter(service="storage")[0].response_body == PNG_1x1  # views share the file
    streamed = json.loads(cap.save_har(tmp_path / "run.har").read_text(encoding="utf-8"))
    assert streamed == json.loads(json.dumps(cap.to_har()))
    assert JWT_SERVICE not in (tmp_path / "run.har").read_text(encoding="utf-8")
    assert Capture(spill_above=None).keep_body(b"x" * 10_000_000).spilled is False
    with pytest.raises(kit.UsageError, match="spill_above=-1"):
        Capture(spill_above=-1)


def test_transport_errors_are_recorded_then_raised(edge_clients: kit.Clients) -> None:
    with pytest.raises(Exception, match="peer closed connection"):
        edge_clients.sync.table("truncated").select("*").execute()
    ex = edge_clients.capture[0]
    assert ex.status == 200 and ex.response_body == b"" and "RemoteProtocolError" in (ex.error or "")
    assert kit.flags_for(ex) == ["truncated_body"]


def test_capture_is_thread_safe_and_iterates_a_snapshot() -> None:
    cap = Capture()
    assert len(cap) == 0 and list(cap) == [] and bool(cap)
    assert "no exchanges captured" in cap._repr_mimebundle_()["text/html"]

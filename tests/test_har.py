"""kit.har: bodies streamed from the spill file come back exactly, and masked, from the HAR."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

from kit.capture import Capture, Exchange
from kit.har import _CHUNK, json_escaped

JWT = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoic2VydmljZV9yb2xlIn0", "c2lnbmF0dXJlLWJ5dGVz"])  # fake
KNOWN = "sb_publishable_known-value-42"


def _capture(*bodies: tuple[bytes, str], spill_above: int = 1024) -> Capture:
    cap = Capture(secrets=[KNOWN], spill_above=spill_above)
    for seq, (body, content_type) in enumerate(bodies):
        cap.append(Exchange("POST", f"http://h/rest/v1/t?access_token={JWT}", (("apikey", JWT),),
                            cap.keep_body(body), 200, (("content-type", content_type),),
                            cap.keep_body(body), 1.0, 2.0, 1000.0, seq=seq, secrets=cap.secrets))
    return cap


def _saved(cap: Capture, tmp_path: Path) -> tuple[str, dict]:
    raw = cap.save_har(tmp_path / "run.har").read_bytes().decode("utf-8")
    return raw, json.loads(raw)


def test_a_multi_megabyte_text_body_round_trips_exactly(tmp_path: Path) -> None:
    rng = random.Random(20)
    chars = rng.choices('abc "\\\n\r\t\x0c\x7f é€😀\u2028{}:,', k=2 * _CHUNK + 3)
    for at in range(5000, len(chars), 997):  # rarer controls, as text has them (< 1 %)
        chars[at] = "\x00\x01\x08\x1b\x1f"[at % 5]
    text = "".join(chars)
    cap = _capture((text.encode(), "text/plain; charset=utf-8"))
    assert cap[0].response_content.spilled
    raw, har = _saved(cap, tmp_path)
    entry = har["log"]["entries"][0]
    assert entry["response"]["content"]["text"] == text and "encoding" not in entry["response"]["content"]
    assert entry["request"]["postData"]["text"] == text
    assert har == json.loads(json.dumps(cap.to_har()))  # the streamed file says what to_har says
    assert JWT not in raw and "[masked" in entry["request"]["url"]


def test_a_binary_body_round_trips_through_base64(tmp_path: Path) -> None:
    body = random.Random(7).randbytes(2 * _CHUNK + 5)  # not a multiple of 3 or of a chunk
    _, har = _saved(_capture((body, "application/octet-stream")), tmp_path)
    content = har["log"]["entries"][0]["response"]["content"]
    assert content["encoding"] == "base64" and base64.b64decode(content["text"]) == body
    assert content["size"] == len(body)


def test_secrets_across_a_chunk_boundary_never_reach_the_file(tmp_path: Path) -> None:
    for shift in (-40, -9, -3, 0, 5):  # the secret starts this far from the first chunk's end
        head = "x" * (_CHUNK + shift)
        text = (f'{head}{JWT} and {{"password": "hunter2-{"p" * 50}"}} {KNOWN} done').encode()
        binary = b"\x00" * (_CHUNK + shift) + JWT.encode() + b"\xff" + KNOWN.encode()
        raw, har = _saved(_capture((text, "text/plain"), (binary, "image/png")), tmp_path)
        for secret in (JWT, "hunter2", KNOWN):
            assert secret not in raw
        entries = har["log"]["entries"]
        assert entries[0]["response"]["content"]["text"].endswith(
            '[masked-jwt] and {"password": "[masked]"} [masked] done')
        decoded = base64.b64decode(entries[1]["response"]["content"]["text"])
        assert decoded == b"\x00" * (_CHUNK + shift) + b"[masked-jwt]\xff[masked]"


def test_json_escaped_is_json_string_content() -> None:
    for text in ("", "plain", 'q"b\\s\n\r\t\x00\x1f\x7f é\u2028😀'):
        assert json.loads(b'"' + json_escaped(text) + b'"') == text

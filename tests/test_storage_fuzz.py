"""Fuzzed object names over raw HTTP: never a 500, never a byte outside the storage dir.

storage3 refuses dot segments itself, so the names go out with plain httpx, every
character percent-encoded (dots too, so neither httpx nor anything in between
normalises ``..`` away before the stack sees it).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import CLASSES, HOSTILE_INPUT, Hostile, Tally, files_under, json_body
from kit.targets import Target

OBJECT_FILE = re.compile(r"storage/objects/[0-9a-f]{2}/[0-9a-f]{32}")
SEGMENTS = st.one_of(
    st.sampled_from(["", ".", "..", "...", "a", "é", "\x00", "%", "%2e", "\\", "?", "#", " ",
                     "x" * 256, "ok-name_1.txt", "a;b=c", "~", "\u202e", "\ud7ff"]),
    st.text(max_size=12),
    st.text(alphabet=string.ascii_letters + string.digits + "_-.!*'() &$@=;:+,?", min_size=1,
            max_size=12),
    st.text(alphabet=string.ascii_letters + string.digits + "_-.", min_size=1, max_size=12),
)
NAMES = st.one_of(st.lists(SEGMENTS, min_size=1, max_size=5).map("/".join),
                  st.text(min_size=1, max_size=40))


class Fuzz:
    def __init__(self, stack: Target, stack_dir: Path) -> None:
        self.stack = stack
        self.root = stack_dir.parent.parent  # the temp dir holding .kit/stack
        self.stack_dir = stack_dir
        self.bucket = "fuzz-names"
        key = stack.service_role_key or ""
        self.http = httpx.Client(base_url=f"{stack.url}/storage/v1", timeout=60,
                                 headers={"apikey": key, "Authorization": f"Bearer {key}"})
        self.before = self.files()
        self.outcomes: dict[int, int] = {}

    def files(self) -> set[str]:
        """Every file under the temp root except PostgreSQL's own, relative to the stack dir."""
        return files_under(self.root, self.stack_dir)

    def url(self, name: str) -> str:
        return f"/object/{self.bucket}/" + quote(name, safe="/").replace(".", "%2E")


@pytest.fixture(scope="module")
def fuzz(stack: Target, stack_dir: Path) -> Iterator[Fuzz]:
    f = Fuzz(stack, stack_dir)
    f.http.post("/bucket", json={"id": f.bucket, "name": f.bucket})
    yield f
    f.http.post(f"/bucket/{f.bucket}/empty")
    f.http.delete(f"/bucket/{f.bucket}")
    f.http.close()


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=NAMES)
def test_fuzzed_names_get_a_clear_answer_and_stay_inside(fuzz: Fuzz, name: str) -> None:
    payload = b"fuzz:" + name.encode("utf-8", "surrogatepass")
    response = fuzz.http.post(fuzz.url(name), content=payload,
                              headers={"content-type": "application/octet-stream",
                                       "x-upsert": "true"})
    assert response.status_code in (200, 400), response.text
    fuzz.outcomes[response.status_code] = fuzz.outcomes.get(response.status_code, 0) + 1
    body = response.json()
    if response.status_code == 400:
        assert body["statusCode"] != "500" and body["error"] and body["message"]
    else:
        assert body["Key"] == f"{fuzz.bucket}/{name}"
        assert fuzz.http.get(fuzz.url(name)).content == payload
    stray = {f for f in fuzz.files() - fuzz.before if not OBJECT_FILE.fullmatch(f)}
    assert stray == set()
    assert list((fuzz.stack_dir / "storage" / "tmp").iterdir()) == []


def test_fuzz_reached_both_outcomes(fuzz: Fuzz) -> None:
    """The generated names were not all refused (or all accepted): both paths were exercised."""
    assert fuzz.outcomes.get(200, 0) >= 10 and fuzz.outcomes.get(400, 0) >= 10, fuzz.outcomes


@pytest.mark.parametrize("name, why", [
    ("../escape.txt", "'..' segment"),
    ("a/../../escape.txt", "'..' segment"),
    ("/abs.txt", "empty path segment"),
    ("a\x00b.txt", "NUL byte"),
    ("x" * 256, "segment is longer than 255 bytes"),
    ("./here.txt", "'.' segment"),
])
def test_unsafe_names_are_refused_with_the_reason(fuzz: Fuzz, name: str, why: str) -> None:
    response = fuzz.http.post(fuzz.url(name), content=b"x")
    assert response.status_code == 400
    body = response.json()
    assert (body["statusCode"], body["error"]) == ("400", "InvalidKey")
    assert why in body["message"]
    assert not any("escape" in f for f in fuzz.files())


# -- every hostile input class into every storage route, path segment, query and body field ----

SCRATCH, CANARY = "fuzz-scratch", "fuzz-canary"
# (method, path, query fields, body: fields, "bytes" for a raw upload, or None)
STORAGE_ROUTES: list[tuple[str, str, dict[str, str], Any]] = [
    ("GET", "/bucket", {"search": ""}, None),
    ("POST", "/bucket", {}, {"id": "fuzz-new", "name": "fuzz-new", "public": False,
                             "file_size_limit": 100, "allowed_mime_types": ["text/plain"]}),
    ("GET", "/bucket/{bucket}", {}, None),
    ("PUT", "/bucket/{bucket}", {}, {"public": False, "file_size_limit": 1000,
                                     "allowed_mime_types": ["text/plain"]}),
    ("POST", "/bucket/{bucket}/empty", {}, None),
    ("DELETE", "/bucket/{bucket}", {}, None),
    ("POST", "/object/move", {}, {"bucketId": SCRATCH, "sourceKey": "missing.txt",
                                  "destinationKey": "moved.txt", "destinationBucket": SCRATCH}),
    ("POST", "/object/copy", {}, {"bucketId": SCRATCH, "sourceKey": "missing.txt",
                                  "destinationKey": "copied.txt", "destinationBucket": SCRATCH}),
    ("POST", "/object/list/{bucket}", {}, {"prefix": "", "limit": 10, "offset": 0, "search": "",
                                           "sortBy": {"column": "name", "order": "asc"}}),
    ("POST", "/object/list-v2/{bucket}", {}, {"prefix": "", "limit": 10, "cursor": "bDphLnR4dA==",
                                              "with_delimiter": True,
                                              "sortBy": {"column": "updated_at", "order": "desc"}}),
    ("GET", "/render/image/authenticated/{bucket}/{key}", {"width": "10"}, None),
    ("GET", "/object/info/public/{bucket}/{key}", {}, None),
    ("GET", "/object/info/authenticated/{bucket}/{key}", {}, None),
    ("GET", "/object/info/{bucket}/{key}", {}, None),
    ("GET", "/object/public/{bucket}/{key}", {}, None),
    ("GET", "/object/authenticated/{bucket}/{key}", {}, None),
    ("GET", "/object/sign/{bucket}/{key}", {"token": ""}, None),
    ("POST", "/object/sign/{bucket}/{key}", {}, {"expiresIn": 60}),
    ("POST", "/object/sign/{bucket}", {}, {"expiresIn": 60, "paths": ["s.txt"]}),
    ("POST", "/object/upload/sign/{bucket}/{key}", {}, None),
    ("PUT", "/object/upload/sign/{bucket}/{key}", {"token": ""}, "bytes"),
    ("DELETE", "/object/{bucket}", {}, {"prefixes": ["nothing.txt"]}),
    ("GET", "/object/{bucket}/{key}", {}, None),
    ("POST", "/object/{bucket}/{key}", {}, "bytes"),
    ("PUT", "/object/{bucket}/{key}", {}, "bytes"),
    ("DELETE", "/object/{bucket}/{key}", {}, None),
]


def storage_places(route: int, value: Hostile) -> list[str]:
    _, path, query, body = STORAGE_ROUTES[route]
    found = [f"path:{p}" for p in ("bucket", "key") if "{" + p + "}" in path]
    found += [f"query:{q}" for q in query]
    if isinstance(body, dict):
        found += [f"body:{b}" for b in body] + (["body:sortBy.column", "body:sortBy.order"]
                                                 if "sortBy" in body else [])
    if body == "bytes":
        found.append("body")
    if value.kind == "oversized":
        found.append("header")
    return found


def hostile_storage_request(route: int, place: str, value: Hostile
                            ) -> tuple[str, str, bytes | None, dict[str, str]]:
    method, path, query, body = STORAGE_ROUTES[route]
    segments = {"bucket": SCRATCH, "key": "s.txt"}
    if place.startswith("path:"):
        segments[place[5:]] = value.quoted
    url = path.format(**segments)
    pairs = [f"{k}={value.quoted if place == f'query:{k}' else v}" for k, v in query.items()]
    headers: dict[str, str] = {}
    if place == "header":
        headers["x-fuzz"] = value.raw.decode("latin-1")
    content: bytes | None = None
    if isinstance(body, dict):
        content = json_body(body, place[5:] if place.startswith("body:") else None, value)
        headers["content-type"] = "application/json"
    elif body == "bytes":
        content = value.raw if place == "body" else b"fuzz bytes"
        headers["content-type"] = "application/octet-stream"
    return method, url + ("?" + "&".join(pairs) if pairs else ""), content, headers


@pytest.fixture(scope="module")
def hostile_world(fuzz: Fuzz) -> Iterator[Fuzz]:
    for bucket in (SCRATCH, CANARY):
        fuzz.http.post("/bucket", json={"id": bucket, "name": bucket})
    fuzz.http.post(f"/object/{SCRATCH}/s.txt", content=b"scratch")
    assert fuzz.http.post(f"/object/{CANARY}/canary.txt", content=b"canary bytes").status_code == 200
    yield fuzz
    for bucket in (SCRATCH, CANARY, "fuzz-new"):
        fuzz.http.post(f"/bucket/{bucket}/empty")
        fuzz.http.delete(f"/bucket/{bucket}")


def test_every_hostile_class_in_every_storage_route_is_a_4xx(hostile_world: Fuzz) -> None:
    fuzz = hostile_world
    before = fuzz.files()
    tally = Tally()

    @settings(max_examples=400, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(STORAGE_ROUTES) - 1), HOSTILE_INPUT, st.data())
    def check(route: int, value: Hostile, data: st.DataObject) -> None:
        place = data.draw(st.sampled_from(storage_places(route, value)))
        method, url, content, headers = hostile_storage_request(route, place, value)
        try:
            status: int | str = fuzz.http.request(method, url, content=content, headers=headers).status_code
        except httpx.HTTPError as exc:  # a dropped connection is a failure too
            status = f"{type(exc).__name__}: {exc}"
        tally.record(value.kind, f"{method} {STORAGE_ROUTES[route][1]} {place}", status)

    check()
    assert tally.failures == []
    assert tally.total >= 400 and set(tally.sent) == set(CLASSES), tally.sent
    # Storage's 400 for every error, 403 FeatureNotEnabled for /render/image (no transformation)
    assert set(tally.statuses) <= {200, 400, 403, 414, 431}, tally.statuses
    assert fuzz.http.get(f"/object/{CANARY}/canary.txt").content == b"canary bytes"
    assert fuzz.http.get(f"/bucket/{CANARY}").json()["id"] == CANARY
    stray = {f for f in fuzz.files() - before if not OBJECT_FILE.fullmatch(f)}
    assert stray == set()
    assert list((fuzz.stack_dir / "storage" / "tmp").iterdir()) == []
    print(f"hostile /storage/v1 requests: {tally.total} {tally.sent} statuses {tally.statuses}")

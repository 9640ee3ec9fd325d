"""Fuzzed object names over raw HTTP: never a 500, never a byte outside the storage dir.

storage3 refuses dot segments itself, so the names go out with plain httpx, every
character percent-encoded (dots too, so neither httpx nor anything in between
normalises ``..`` away before the stack sees it).
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
        found: set[str] = set()
        for folder, dirs, files in os.walk(self.root):
            if Path(folder) == self.stack_dir:
                dirs[:] = [d for d in dirs if d != "pg"]
            found.update(os.path.relpath(os.path.join(folder, f), self.stack_dir) for f in files)
        return found

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

"""Pure parts of the storage service: name checks, MIME and size rules, ranges, blob files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.stack.storage import names
from kit.stack.storage.blobs import BlobStore, TooLarge, parse_range
from kit.stack.storage.listing import decode_cursor, encode_cursor
from kit.stack.storage.problems import StorageProblem


@pytest.mark.parametrize("key", ["a.txt", "folder/sub/cat.png", "a..b", "x (1)!.csv",
                                 "k=v;a+b,c?d@e$f&g'h*i:j", "_/-/."[:3] + "x"])
def test_safe_keys_pass_unchanged(key: str) -> None:
    assert names.check_key(key) == key


@pytest.mark.parametrize("key, reason", [
    ("", "empty name"),
    ("../x", "'..' segment"),
    ("a/./b", "'.' segment"),
    ("/etc/passwd", "empty path segment"),
    ("a//b", "empty path segment"),
    ("a/", "empty path segment"),
    ("nul\x00.txt", "NUL byte"),
    ("caf\u00e9.txt", "character 'é' is not allowed"),
    ("back\\slash", "character '\\\\' is not allowed"),
    ("s" * 256, "longer than 255 bytes"),
    ("a/" * 600 + "b", "longer than 1024 bytes"),
])
def test_unsafe_keys_name_the_problem(key: str, reason: str) -> None:
    with pytest.raises(StorageProblem) as info:
        names.check_key(key)
    assert (info.value.status, info.value.error) == (400, "InvalidKey")
    assert reason in info.value.message
    assert info.value.response().status_code == 400


@pytest.mark.parametrize("name, ok", [("avatars", True), ("my bucket.v2", True), ("a/b", False),
                                      ("", False), ("x" * 64, False), ("..", False),
                                      ("é", False)])
def test_bucket_names(name: str, ok: bool) -> None:
    if ok:
        assert names.check_bucket_name(name) == name
    else:
        with pytest.raises(StorageProblem, match="Bucket name invalid"):
            names.check_bucket_name(name)


@pytest.mark.parametrize("mime, allowed, ok", [
    ("image/png", None, True), ("image/png", [], True), ("image/png", ["image/*"], True),
    ("IMAGE/PNG", ["image/png"], True), ("text/plain;charset=UTF-8", ["text/plain"], True),
    ("text/plain", ["image/*", "text/csv"], False), ("imagepng", ["image/*"], False),
    ("application/json", ["application/*"], True),
])
def test_mime_allowed(mime: str, allowed: list[str] | None, ok: bool) -> None:
    assert names.mime_allowed(mime, allowed) is ok


def test_size_limits() -> None:
    assert [names.parse_size_limit(v) for v in (None, 0, 1000, "20MB", "1.5kb", "3B")] == [
        None, None, 1000, 20_000_000, 1500, 3]
    for bad in ("20 parsecs", -1, True, 1.5):
        with pytest.raises(StorageProblem):
            names.parse_size_limit(bad)
    assert names.upload_limit(None) == names.GLOBAL_FILE_SIZE_LIMIT
    assert names.upload_limit(10) == 10
    assert names.upload_limit(10**12) == names.GLOBAL_FILE_SIZE_LIMIT


@pytest.mark.parametrize("header, span", [
    (None, None), ("bytes=0-9", (0, 9)), ("bytes=90-", (90, 99)), ("bytes=-10", (90, 99)),
    ("bytes=95-200", (95, 99)), ("items=0-1", None), ("bytes=0-1,5-6", None),
])
def test_ranges(header: str | None, span: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == span


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=5-2", "bytes=x-y", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(StorageProblem, match="invalid range"):
        parse_range(header, 100)


def test_blob_writer_commits_atomically_and_aborts_cleanly(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "storage")
    version = store.new_version()
    with store.writer(limit=10) as writer:
        writer.write(b"hello")
        path = writer.commit(version)
    assert path.read_bytes() == b"hello" and path.parent.parent == store.objects_dir
    assert writer.etag == '"5d41402abc4b2a76b9719d911017c592"'
    assert b"".join(store.chunks(version, 1, 3)) == b"ell"
    with pytest.raises(TooLarge), store.writer(limit=4) as over:
        over.write(b"hel")
        over.write(b"lo")
    assert list(store.tmp_dir.iterdir()) == []
    with store.writer(limit=10) as abandoned:
        abandoned.write(b"half")
    assert list(store.tmp_dir.iterdir()) == []
    copy = store.new_version()
    store.copy(version, copy)
    store.delete(version, None, "../../etc/passwd")
    assert not store.exists(version) and store.exists(copy) and not store.exists("../x")
    with pytest.raises(ValueError, match="not a stored version id"):
        store.path("../../outside")


@pytest.mark.parametrize(("name", "order", "column", "after"), [
    ("a.txt", "asc", "", ""), ("docs/deep/", "desc", "created_at", "2026-01-02T03:04:05.678Z"),
    ("x:y\tz é", "asc", "updated_at", "")])
def test_list_v2_cursors_round_trip(name: str, order: str, column: str, after: str) -> None:
    token = encode_cursor(name, order, column, after)
    expected = {"after_name": name, "order": order, "column": column, "after_value": after}
    assert decode_cursor(token) == {k: v for k, v in expected.items() if v}


@pytest.mark.parametrize("token", ["not a cursor", "", "eDpvbmU=", "bDphCm86c2lkZXdheXM=", "//79"])
def test_bad_list_v2_cursors_are_invalid_parameter(token: str) -> None:
    with pytest.raises(StorageProblem) as info:
        decode_cursor(token)
    assert (info.value.status, info.value.error, info.value.message) == (
        400, "InvalidParameter", "Invalid Parameter continuation token")

"""Contract tests: the real supabase-py storage clients (sync and async) against the stack.

Each test runs once with the sync ``Client`` and once with the ``AsyncClient``; the
operation is written once and ``run`` awaits it when the client is async.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from PIL import Image
from storage3.exceptions import StorageApiError
from supabase import AsyncClient, AsyncClientOptions, Client, ClientOptions

from kit.stack.keys import Keys
from kit.stack.storage.signing import sign_token
from kit.targets import Target

CSV_CP1252 = "Société,Montréal\nCafé,Genève\n".encode("cp1252")


def make_png() -> bytes:
    """A deterministic ~30 KB PNG: noise does not compress."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", (100, 100), rng.randbytes(100 * 100 * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


PNG = make_png()


def sync_client(url: str, key: str, token: str | None = None) -> Client:
    """A real sync Client with one injected httpx client (as the kit builds them; without
    one, supabase 2.34.1's ``client.storage`` passes a deprecated timeout and warns)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx.Client(timeout=120, follow_redirects=True)
    return Client(url, key, ClientOptions(httpx_client=http, headers=headers))


def async_client(url: str, key: str, token: str | None = None) -> AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx.AsyncClient(timeout=120, follow_redirects=True)
    return AsyncClient(url, key, AsyncClientOptions(httpx_client=http, headers=headers))


class Run:
    """Calls a storage operation on one client; awaits it when the client is async."""

    def __init__(self, storage: Any, mode: str) -> None:
        self.storage = storage
        self.mode = mode

    async def __call__(self, op: Callable[[Any], Any]) -> Any:
        result = op(self.storage)
        if self.mode == "async":
            assert inspect.isawaitable(result), "async storage calls must be awaitable"
            result = await result
        else:
            assert not inspect.isawaitable(result)
        return result

    async def error(self, op: Callable[[Any], Any]) -> StorageApiError:
        with pytest.raises(StorageApiError) as info:
            await self(op)
        return info.value


@pytest_asyncio.fixture(params=["sync", "async"], loop_scope="function")
async def run(request: pytest.FixtureRequest, stack: Target) -> AsyncIterator[Run]:
    if request.param == "sync":
        client = sync_client(stack.url, stack.service_role_key or "")
        yield Run(client.storage, "sync")
        client.options.httpx_client.close()  # type: ignore[union-attr]
    else:
        aclient = async_client(stack.url, stack.service_role_key or "")
        yield Run(aclient.storage, "async")
        await aclient.options.httpx_client.aclose()  # type: ignore[union-attr]


@pytest_asyncio.fixture(loop_scope="function")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP, as a browser fetching a public or signed URL (no apikey)."""
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


@pytest.fixture
def bucket(stack: Target, unique: str) -> Iterator[str]:
    """A fresh private bucket, emptied and deleted afterwards."""
    client = sync_client(stack.url, stack.service_role_key or "")
    name = f"t-{unique}"
    client.storage.create_bucket(name)
    yield name
    client.storage.empty_bucket(name)
    client.storage.delete_bucket(name)
    client.options.httpx_client.close()  # type: ignore[union-attr]


def status_code(exc: StorageApiError) -> tuple[str, str]:
    return str(exc.status), exc.code


async def test_bucket_lifecycle(run: Run, unique: str) -> None:
    name = f"life-{unique}"
    created = await run(lambda s: s.create_bucket(name, options={
        "public": False, "file_size_limit": 1000, "allowed_mime_types": ["image/*"]}))
    assert created == {"name": name}
    got = await run(lambda s: s.get_bucket(name))
    assert (got.id, got.name, got.public, got.file_size_limit, got.allowed_mime_types,
            got.owner) == (name, name, False, 1000, ["image/*"], "")
    assert name in [b.id for b in await run(lambda s: s.list_buckets())]
    duplicate = await run.error(lambda s: s.create_bucket(name))
    assert status_code(duplicate) == ("409", "Duplicate")
    updated = await run(lambda s: s.update_bucket(name, {"public": True, "file_size_limit": 5}))
    assert updated == {"message": "Successfully updated"}
    got = await run(lambda s: s.get_bucket(name))
    assert (got.public, got.file_size_limit, got.allowed_mime_types) == (True, 5, ["image/*"])
    await run(lambda s: s.from_(name).upload("x.png", b"12345", {"content-type": "image/png"}))
    not_empty = await run.error(lambda s: s.delete_bucket(name))
    assert status_code(not_empty) == ("409", "ResourceNotEmpty")
    assert await run(lambda s: s.empty_bucket(name)) == {"message": "Successfully emptied"}
    assert await run(lambda s: s.from_(name).list()) == []
    assert await run(lambda s: s.delete_bucket(name)) == {"message": "Successfully deleted"}
    gone = await run.error(lambda s: s.get_bucket(name))
    assert status_code(gone) == ("404", "Bucket not found")
    assert gone.message == "Bucket not found"


async def test_image_round_trip_and_download_headers(run: Run, bucket: str, stack: Target,
                                                     http: httpx.AsyncClient) -> None:
    assert 25_000 < len(PNG) < 40_000
    uploaded = await run(lambda s: s.from_(bucket).upload(
        "img/noise.png", PNG, {"content-type": "image/png", "cache-control": "120"}))
    assert (uploaded.path, uploaded.full_path) == ("img/noise.png", f"{bucket}/img/noise.png")
    assert await run(lambda s: s.from_(bucket).download("img/noise.png")) == PNG
    info = await run(lambda s: s.from_(bucket).info("img/noise.png"))
    assert (info["name"], info["size"], info["content_type"], info["cache_control"]) == (
        "img/noise.png", len(PNG), "image/png", "max-age=120")
    response = await http.get(f"{stack.url}/storage/v1/object/{bucket}/img/noise.png",
                         headers={"apikey": stack.service_role_key or "",
                                  "Authorization": f"Bearer {stack.service_role_key}"})
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "max-age=120"
    assert response.headers["content-length"] == str(len(PNG))
    assert response.headers["etag"] == info["etag"] and response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith(" GMT")
    partial = await http.get(str(response.url), headers={**response.request.headers,
                                                    "Range": "bytes=10-19"})
    assert partial.status_code == 206
    assert partial.content == PNG[10:20]
    assert partial.headers["content-range"] == f"bytes 10-19/{len(PNG)}"
    cached = await http.get(str(response.url), headers={**response.request.headers,
                                                   "If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


async def test_non_utf8_csv_round_trip(run: Run, bucket: str) -> None:
    assert b"\xe9" in CSV_CP1252
    await run(lambda s: s.from_(bucket).upload(
        "cities.csv", CSV_CP1252, {"content-type": "text/csv; charset=windows-1252"}))
    assert await run(lambda s: s.from_(bucket).download("cities.csv")) == CSV_CP1252
    info = await run(lambda s: s.from_(bucket).info("cities.csv"))
    assert info["content_type"] == "text/csv; charset=windows-1252"


async def test_upload_duplicate_upsert_and_update(run: Run, bucket: str) -> None:
    files = lambda s: s.from_(bucket)
    await run(lambda s: files(s).upload("a.txt", b"one"))
    duplicate = await run.error(lambda s: files(s).upload("a.txt", b"two"))
    assert status_code(duplicate) == ("409", "Duplicate")
    assert duplicate.message == "The resource already exists"
    await run(lambda s: files(s).upload("a.txt", b"two", {"upsert": "true"}))
    assert await run(lambda s: files(s).download("a.txt")) == b"two"
    updated = await run(lambda s: files(s).update("a.txt", b"three", {"metadata": {"k": "v"}}))
    assert updated.full_path == f"{bucket}/a.txt"
    assert await run(lambda s: files(s).download("a.txt")) == b"three"
    assert (await run(lambda s: files(s).info("a.txt")))["metadata"] == {"k": "v"}


async def test_list_folders_prefix_paging_sort_search(run: Run, bucket: str) -> None:
    files = lambda s: s.from_(bucket)
    for name in ("b.txt", "a.txt", "docs/x.txt", "docs/deep/y.txt", "c.md"):
        await run(lambda s, n=name: files(s).upload(n, n.encode()))
    top = await run(lambda s: files(s).list())
    assert [(e["name"], e["id"] is None) for e in top] == [
        ("docs", True), ("a.txt", False), ("b.txt", False), ("c.md", False)]
    assert top[0]["metadata"] is None and top[1]["metadata"]["size"] == len(b"a.txt")
    docs = await run(lambda s: files(s).list("docs"))
    assert [e["name"] for e in docs] == ["deep", "x.txt"]
    page = await run(lambda s: files(s).list(None, {"limit": 2, "offset": 1}))
    assert [e["name"] for e in page] == ["a.txt", "b.txt"]
    desc = await run(lambda s: files(s).list(None, {"sortBy": {"column": "name", "order": "desc"}}))
    assert [e["name"] for e in desc] == ["docs", "c.md", "b.txt", "a.txt"]
    found = await run(lambda s: files(s).list(None, {"search": "b"}))
    assert [e["name"] for e in found] == ["b.txt"]


async def test_remove_move_copy_info_exists(run: Run, bucket: str) -> None:
    files = lambda s: s.from_(bucket)
    await run(lambda s: files(s).upload("src/one.bin", b"\x00\x01\x02"))
    assert await run(lambda s: files(s).copy("src/one.bin", "copy/one.bin")) == {
        "Key": f"{bucket}/copy/one.bin"}
    assert await run(lambda s: files(s).move("src/one.bin", "moved/one.bin")) == {
        "message": "Successfully moved"}
    assert await run(lambda s: files(s).exists("src/one.bin")) is False
    assert await run(lambda s: files(s).exists("moved/one.bin")) is True
    assert await run(lambda s: files(s).download("copy/one.bin")) == b"\x00\x01\x02"
    info = await run(lambda s: files(s).info("moved/one.bin"))
    assert (info["bucket_id"], info["size"]) == (bucket, 3)
    removed = await run(lambda s: files(s).remove(["moved/one.bin", "copy/one.bin", "nope"]))
    assert sorted(r["name"] for r in removed) == ["copy/one.bin", "moved/one.bin"]
    missing = await run.error(lambda s: files(s).download("moved/one.bin"))
    assert status_code(missing) == ("404", "not_found")
    assert missing.message == "Object not found"
    move_missing = await run.error(lambda s: files(s).move("nope", "other"))
    assert status_code(move_missing) == ("404", "not_found")


async def test_signed_urls_and_public_url(run: Run, bucket: str, stack: Target,
                                          http: httpx.AsyncClient) -> None:
    files = lambda s: s.from_(bucket)
    await run(lambda s: files(s).upload("doc.csv", CSV_CP1252, {"content-type": "text/csv"}))
    signed = await run(lambda s: files(s).create_signed_url("doc.csv", 60))
    fetched = await http.get(signed["signedURL"])  # no apikey: the token is the authority
    assert fetched.status_code == 200 and fetched.content == CSV_CP1252
    assert fetched.headers["expires"].endswith(" GMT")
    many = await run(lambda s: files(s).create_signed_urls(["doc.csv", "missing.csv"], 60))
    assert [m["path"] for m in many] == ["doc.csv", "missing.csv"]
    assert (await http.get(many[0]["signedURL"])).content == CSV_CP1252
    assert many[1]["signedURL"] is None
    assert many[1]["error"] == "Either the object does not exist or you do not have access to it"
    no_object = await run.error(lambda s: files(s).create_signed_url("missing.csv", 60))
    assert status_code(no_object) == ("404", "not_found")
    public_url = await run(lambda s: files(s).get_public_url("doc.csv"))
    private = await http.get(public_url)
    assert private.status_code == 400 and private.json()["statusCode"] == "404"
    await run(lambda s: s.update_bucket(bucket, {"public": True}))
    public = await http.get(public_url)
    assert public.status_code == 200 and public.content == CSV_CP1252
    head = await http.head(public_url)
    assert head.headers["content-length"] == str(len(CSV_CP1252)) and head.content == b""


async def test_signed_upload_url(run: Run, bucket: str) -> None:
    files = lambda s: s.from_(bucket)
    signed = await run(lambda s: files(s).create_signed_upload_url("up/load.png"))
    assert signed["path"] == "up/load.png" and signed["token"]
    done = await run(lambda s: files(s).upload_to_signed_url(
        "up/load.png", signed["token"], PNG, {"content-type": "image/png"}))
    assert done.full_path == f"{bucket}/up/load.png"
    assert await run(lambda s: files(s).download("up/load.png")) == PNG
    again = await run.error(lambda s: files(s).upload_to_signed_url("up/load.png", signed["token"],
                                                                    b"x"))
    assert status_code(again) == ("409", "Duplicate")  # no upsert in this token
    read_url = (await run(lambda s: files(s).create_signed_url("up/load.png", 60)))["signedURL"]
    read_token = read_url.split("token=")[1]
    misuse = await run.error(lambda s: files(s).upload_to_signed_url("up/load.png", read_token,
                                                                     b"x"))
    assert status_code(misuse) == ("400", "InvalidSignature")  # a read URL cannot write
    no_bucket = await run.error(lambda s: s.from_(bucket + "-none").create_signed_upload_url("a"))
    assert status_code(no_bucket) == ("404", "Bucket not found")


async def test_error_statuses_and_codes(run: Run, bucket: str, unique: str) -> None:
    files = lambda s: s.from_(bucket)
    no_bucket = await run.error(lambda s: s.from_(f"none-{unique}").upload("a.txt", b"x"))
    assert status_code(no_bucket) == ("404", "Bucket not found")
    await run(lambda s: s.update_bucket(bucket, {"file_size_limit": 10,
                                                 "allowed_mime_types": ["image/*", "text/csv"]}))
    too_large = await run.error(lambda s: files(s).upload("big.png", b"x" * 11,
                                                          {"content-type": "image/png"}))
    assert status_code(too_large) == ("413", "Payload too large")
    wrong_type = await run.error(lambda s: files(s).upload("a.txt", b"x"))
    assert status_code(wrong_type) == ("415", "invalid_mime_type")
    assert wrong_type.message == "mime type text/plain;charset=UTF-8 is not supported"
    await run(lambda s: files(s).upload("ok.webp", b"x" * 10, {"content-type": "image/webp"}))
    assert [e["name"] for e in await run(lambda s: files(s).list())] == ["ok.webp"]
    bad_name = await run.error(lambda s: s.create_bucket("bad/name"))
    assert status_code(bad_name) == ("400", "Invalid Input")
    bad_key = await run.error(lambda s: files(s).upload("caf\u00e9.png", b"x",
                                                        {"content-type": "image/png"}))
    assert status_code(bad_key) == ("400", "InvalidKey") and "é" in bad_key.message


async def test_sync_and_async_give_identical_results(stack: Target, unique: str) -> None:
    results = {}
    for mode in ("sync", "async"):
        if mode == "sync":
            runner = Run(sync_client(stack.url, stack.service_role_key or "").storage, mode)
        else:
            runner = Run(async_client(stack.url, stack.service_role_key or "").storage, mode)
        name = f"same-{mode}-{unique}"
        await runner(lambda s, n=name: s.create_bucket(n))
        results[mode] = await _scenario(runner, name)
        await runner(lambda s, n=name: s.empty_bucket(n))
        await runner(lambda s, n=name: s.delete_bucket(n))
    assert results["sync"] == results["async"]
    assert results["sync"][0] == PNG


async def _scenario(run: Run, bucket: str) -> list[Any]:
    files = lambda s: s.from_(bucket)
    volatile = ("id", "updated_at", "created_at", "last_accessed_at", "lastModified", "version",
                "last_modified", "bucket_id")

    def stable(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: stable(v) for k, v in value.items() if k not in volatile}
        if isinstance(value, list):
            return [stable(v) for v in value]
        return value

    await run(lambda s: files(s).upload("p/img.png", PNG, {"content-type": "image/png"}))
    await run(lambda s: files(s).upload("data.csv", CSV_CP1252, {"content-type": "text/csv"}))
    error = await run.error(lambda s: files(s).download("absent"))
    return [
        await run(lambda s: files(s).download("p/img.png")),
        stable(await run(lambda s: files(s).list())),
        stable(await run(lambda s: files(s).info("data.csv"))),
        await run(lambda s: files(s).exists("absent")),
        (error.status, error.code, error.message),
        stable(await run(lambda s: files(s).remove(["data.csv"]))),
    ]


async def test_oversized_uploads_write_nothing(run: Run, bucket: str, stack: Target,
                                               stack_dir: Path, http: httpx.AsyncClient) -> None:
    storage_dir = stack_dir / "storage"
    before = sorted(p.name for p in (storage_dir / "objects").rglob("*") if p.is_file())
    await run(lambda s: s.update_bucket(bucket, {"file_size_limit": 1_000_000}))
    big = await run.error(lambda s: s.from_(bucket).upload("big.bin", b"\xff" * 16_000_000))
    assert status_code(big) == ("413", "Payload too large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is counted
        for _ in range(30):
            yield b"\x00" * 100_000

    key = stack.service_role_key or ""
    streamed = await http.post(f"{stack.url}/storage/v1/object/{bucket}/streamed.bin",
                               content=chunks(), headers={"apikey": key,
                                                          "Authorization": f"Bearer {key}"})
    assert streamed.status_code == 400 and streamed.json()["statusCode"] == "413"
    after = sorted(p.name for p in (storage_dir / "objects").rglob("*") if p.is_file())
    assert after == before
    assert list((storage_dir / "tmp").iterdir()) == []
    assert await run(lambda s: s.from_(bucket).list()) == []


async def test_signed_url_tokens_expire_and_resist_tampering(stack: Target, bucket: str,
                                                             http: httpx.AsyncClient) -> None:
    client = sync_client(stack.url, stack.service_role_key or "")
    files = client.storage.from_(bucket)
    files.upload("a.txt", b"alpha")
    files.upload("b.txt", b"beta")
    signed = files.create_signed_url("a.txt", 60, {"download": "report.txt"})["signedURL"]
    ok = await http.get(signed)
    assert ok.content == b"alpha"
    assert ok.headers["content-disposition"].startswith("attachment; filename=report.txt")
    base, token = signed.split("?token=")
    token = token.split("&")[0]
    keys = Keys(stack.jwt_secret or "", stack.anon_key, stack.service_role_key or "")

    async def fetch(url: str) -> dict[str, str]:
        response = await http.get(url)
        assert response.status_code == 400
        return response.json()

    head, body, signature = token.split(".")
    tampered = ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])
    assert await fetch(f"{base}?token={tampered}") == {
        "statusCode": "400", "error": "InvalidJWT", "message": "invalid signature"}
    expired = sign_token(keys, bucket, "a.txt", 60, now=time.time() - 3600)
    assert await fetch(f"{base}?token={expired}") == {
        "statusCode": "400", "error": "InvalidJWT", "message": "jwt expired"}
    other_path = base.replace("/a.txt", "/b.txt")
    assert await fetch(f"{other_path}?token={token}") == {
        "statusCode": "400", "error": "InvalidSignature", "message": "Invalid signature"}
    api_key_as_token = await fetch(f"{base}?token={stack.anon_key}")
    assert api_key_as_token["error"] == "InvalidJWT"  # an API key is not a signed URL
    client.options.httpx_client.close()  # type: ignore[union-attr]


async def test_head_and_delete_single_object_routes(stack: Target, bucket: str,
                                                    http: httpx.AsyncClient) -> None:
    key = stack.service_role_key or ""
    auth = {"apikey": key, "Authorization": f"Bearer {key}"}
    url = f"{stack.url}/storage/v1/object/{bucket}/one.txt"
    created = await http.post(url, content=b"1234", headers={**auth, "content-type": "text/csv"})
    assert set(created.json()) == {"Id", "Key"}
    head = await http.head(f"{stack.url}/storage/v1/object/authenticated/{bucket}/one.txt",
                           headers=auth)
    assert (head.status_code, head.headers["content-length"], head.content) == (200, "4", b"")
    assert head.headers["content-type"] == "text/csv"
    assert (await http.delete(url, headers=auth)).json() == {"message": "Successfully deleted"}
    again = await http.delete(url, headers=auth)
    assert (again.status_code, again.json()["statusCode"]) == (400, "404")
    unknown = await http.get(f"{stack.url}/storage/v1/no/such/route", headers=auth)
    assert (unknown.status_code, unknown.json()["statusCode"]) == (404, "404")  # not-found-handler.ts


async def test_racing_upserts_keep_one_version_on_disk(stack: Target, bucket: str,
                                                       stack_dir: Path) -> None:
    objects = stack_dir / "storage" / "objects"
    before = {p.name for p in objects.rglob("*") if p.is_file()}
    client = async_client(stack.url, stack.service_role_key or "")
    files = client.storage.from_(bucket)
    payloads = [bytes([i]) * (1000 + i) for i in range(8)]
    await asyncio.gather(*(files.upload("race.bin", p, {"upsert": "true"}) for p in payloads))
    assert await files.download("race.bin") in payloads
    after = {p.name for p in objects.rglob("*") if p.is_file()}
    info = await files.info("race.bin")
    assert after - before == {info["version"]}  # every replaced version's bytes are gone
    await client.options.httpx_client.aclose()  # type: ignore[union-attr]


async def test_list_v2_folders_cursor_paging(run: Run, bucket: str) -> None:
    files = lambda s: s.from_(bucket)
    for name in ("b.txt", "a.txt", "docs/x.txt", "docs/deep/y.txt", "docs_z.md", "c(1).md"):
        await run(lambda s, n=name: files(s).upload(n, n.encode()))
    top = await run(lambda s: files(s).list_v2({"with_delimiter": True}))
    assert ([f.name for f in top.folders], [o.name for o in top.objects], top.hasNext) == (
        ["docs/"], ["a.txt", "b.txt", "c(1).md", "docs_z.md"], False)
    assert top.objects[0].metadata["size"] == len(b"a.txt") and top.nextCursor is None
    docs = await run(lambda s: files(s).list_v2({"prefix": "docs/", "with_delimiter": True}))
    assert [(f.name, f.key) for f in docs.folders] == [("docs/deep/", "deep")]
    assert [(o.name, o.key) for o in docs.objects] == [("docs/x.txt", "x.txt")]
    like_is_literal = await run(lambda s: files(s).list_v2({"prefix": "docs_"}))
    assert [o.name for o in like_is_literal.objects] == ["docs_z.md"]
    seen, cursor, pages = [], None, 0
    while True:  # every entry exactly once, a folder never repeated by its contents
        options = {"with_delimiter": True, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await run(lambda s, o=options: files(s).list_v2(o))
        seen += sorted([f.name for f in page.folders] + [o.name for o in page.objects])
        pages += 1
        if not page.hasNext:
            break
        cursor = page.nextCursor
    assert (seen, pages) == (["a.txt", "b.txt", "c(1).md", "docs/", "docs_z.md"], 3)
    desc = await run(lambda s: files(s).list_v2({"limit": 3, "sortBy": {"column": "name",
                                                                          "order": "desc"}}))
    assert ([o.name for o in desc.objects], desc.hasNext) == (
        ["docs_z.md", "docs/x.txt", "docs/deep/y.txt"], True)
    rest = await run(lambda s: files(s).list_v2({"cursor": desc.nextCursor}))
    assert [o.name for o in rest.objects] == ["c(1).md", "b.txt", "a.txt"]
    newest = await run(lambda s: files(s).list_v2({"limit": 1, "sortBy": {"column": "created_at",
                                                                           "order": "desc"}}))
    assert [o.name for o in newest.objects] == ["c(1).md"] and newest.hasNext
    bad = await run.error(lambda s: files(s).list_v2({"cursor": "not a cursor"}))
    assert (status_code(bad), bad.message) == (("400", "InvalidParameter"),
                                               "Invalid Parameter continuation token")


async def test_image_transformation_is_refused_and_unknown_routes_are_404(
        run: Run, bucket: str, stack: Target, http: httpx.AsyncClient) -> None:
    files = lambda s: s.from_(bucket)
    await run(lambda s: files(s).upload("pic.png", PNG, {"content-type": "image/png"}))
    refused = await run.error(lambda s: files(s).download("pic.png", {"transform": {"width": 8}}))
    assert (status_code(refused), refused.message) == (("403", "FeatureNotEnabled"),
                                                       "feature not enabled for this tenant")
    await run(lambda s: s.update_bucket(bucket, {"public": True}))
    public = await run(lambda s: files(s).get_public_url("pic.png", {"transform": {"height": 8}}))
    assert "/render/image/public/" in public
    answer = await http.get(public)
    assert (answer.status_code, answer.json()["code"]) == (403, "FeatureNotEnabled")
    assert answer.content != PNG
    signed = await run(lambda s: files(s).create_signed_url("pic.png", 60,
                                                            {"transform": {"width": 8}}))
    assert "/object/sign/" in signed["signedURL"]  # as Storage without the feature: not transformed
    headers = {"apikey": stack.anon_key}
    for path in ("/storage/v1/nothing/here?x=1", "/storage/v1/render/image/x",
                 f"/storage/v1/object/{bucket}"):
        missing = await http.get(stack.url + path, headers=headers)
        assert missing.status_code == 404
        assert missing.json() == {"statusCode": "404", "error": "Not Found", "code": "InvalidRequest",
                                  "message": f"Route GET:{path.removeprefix('/storage/v1')} not found"}
    plain = (await run(lambda s: files(s).create_signed_url("pic.png", 60, {"download": True})))
    named = await run(lambda s: files(s).create_signed_url("pic.png", 60,
                                                           {"download": "my report!.png"}))
    assert (await http.get(plain["signedURL"])).headers["content-disposition"] == "attachment;"
    assert (await http.get(named["signedURL"])).headers["content-disposition"] == (
        "attachment; filename=my%20report!.png; filename*=UTF-8''my%20report!.png")

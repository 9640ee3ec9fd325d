"""RLS matrix: anon, service_role and a signed-in user on public and private buckets.

A fresh stack behaves like a fresh Supabase project (RLS on, no storage policies): only
service_role reads and writes through the API; public objects are read through
/object/public/. The private bucket gets the Supabase docs' "own folder" policy
(``auth.uid()`` and ``storage.foldername(name)``), so a user reaches their folder only.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from storage3.exceptions import StorageApiError
from supabase import AsyncClient, AsyncClientOptions, Client, ClientOptions

from kit.stack.keys import Keys
from kit.targets import Target

USER = str(uuid.uuid4())
OTHER = str(uuid.uuid4())


class World:
    def __init__(self, stack: Target, unique: str) -> None:
        self.stack = stack
        self.public = f"pub-{unique}"
        self.private = f"priv-{unique}"
        keys = Keys(stack.jwt_secret or "", stack.anon_key, stack.service_role_key or "")
        self.user_token = keys.user_token(USER, email="user@example.com")


@pytest.fixture(scope="module")
def world(stack: Target, db_url: str) -> Iterator[World]:
    w = World(stack, uuid.uuid4().hex[:8])
    http = httpx.Client(timeout=60)
    admin = Client(stack.url, stack.service_role_key or "", ClientOptions(httpx_client=http)).storage
    admin.create_bucket(w.public, options={"public": True})
    admin.create_bucket(w.private)
    admin.from_(w.public).upload("pub/file.txt", b"public bytes")
    admin.from_(w.private).upload("shared.txt", b"private bytes")
    admin.from_(w.private).upload(f"{USER}/a.txt", b"user bytes")
    admin.from_(w.private).upload(f"{OTHER}/b.txt", b"other bytes")
    policy = f"own folder {w.private}"
    condition = (f"bucket_id = '{w.private}' AND "
                 "(storage.foldername(name))[1] = auth.uid()::text")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'CREATE POLICY "{policy}" ON storage.objects FOR ALL TO authenticated '
                     f"USING ({condition}) WITH CHECK ({condition})")
    yield w
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'DROP POLICY "{policy}" ON storage.objects')
    for bucket in (w.public, w.private):
        admin.empty_bucket(bucket)
        admin.delete_bucket(bucket)
    http.close()


def storage_for(w: World, role: str, mode: str) -> Any:
    key = w.stack.service_role_key if role == "service_role" else w.stack.anon_key
    headers = {"Authorization": f"Bearer {w.user_token}"} if role == "user" else {}
    if mode == "sync":
        return Client(w.stack.url, key or "", ClientOptions(
            httpx_client=httpx.Client(timeout=60), headers=headers)).storage
    return AsyncClient(w.stack.url, key or "", AsyncClientOptions(
        httpx_client=httpx.AsyncClient(timeout=60), headers=headers)).storage


async def outcome(storage: Any, op: Callable[[Any], Any], expect: Any = None) -> str:
    """``"ok"`` (and the expected value, when given), or ``"<status> <code>"``."""
    try:
        result = op(storage)
        if inspect.isawaitable(result):
            result = await result
    except StorageApiError as exc:
        return f"{exc.status} {exc.code}"
    if expect is not None and result != expect:
        return f"unexpected {result!r}"
    return "ok"


async def probe(w: World, role: str, mode: str) -> dict[str, str]:
    s = storage_for(w, role, mode)
    pub, priv = w.public, w.private
    buckets = s.list_buckets()
    buckets = await buckets if inspect.isawaitable(buckets) else buckets
    listing = s.from_(priv).list()
    listing = await listing if inspect.isawaitable(listing) else listing
    removed = s.from_(priv).remove([f"{OTHER}/b.txt"]) if role == "user" else []
    removed = await removed if inspect.isawaitable(removed) else removed
    return {
        "sees buckets": str(pub in [b.id for b in buckets]),
        "download public": await outcome(s, lambda s: s.from_(pub).download("pub/file.txt"),
                                         b"public bytes"),
        "download private": await outcome(s, lambda s: s.from_(priv).download("shared.txt"),
                                          b"private bytes"),
        "download own folder": await outcome(s, lambda s: s.from_(priv).download(f"{USER}/a.txt"),
                                             b"user bytes"),
        "upload own folder": await outcome(s, lambda s: s.from_(priv).upload(
            f"{USER}/new-{role}-{mode}.txt", b"x")),
        "upload other folder": await outcome(s, lambda s: s.from_(priv).upload(
            f"{OTHER}/new-{role}-{mode}.txt", b"x")),
        "upload public bucket": await outcome(s, lambda s: s.from_(pub).upload(
            f"new-{role}-{mode}.txt", b"x")),
        "sign private": await outcome(s, lambda s: s.from_(priv).create_signed_url("shared.txt", 60)),
        "sign own": await outcome(s, lambda s: s.from_(priv).create_signed_url(f"{USER}/a.txt", 60)),
        "create bucket": await outcome(s, lambda s: s.create_bucket(f"x-{role}-{mode}-{pub}")),
        "lists": ",".join(e["name"] for e in listing),
        "removes other's file": str(bool(removed)),
    }


DENIED = "403 Unauthorized"
HIDDEN = "404 not_found"
EXPECTED = {
    "anon": {"sees buckets": "False", "download public": HIDDEN, "download private": HIDDEN,
             "download own folder": HIDDEN, "upload own folder": DENIED,
             "upload other folder": DENIED, "upload public bucket": DENIED,
             "sign private": HIDDEN, "sign own": HIDDEN, "create bucket": DENIED,
             "lists": "", "removes other's file": "False"},
    "service_role": {"sees buckets": "True", "download public": "ok", "download private": "ok",
                     "download own folder": "ok", "upload own folder": "ok",
                     "upload other folder": "ok", "upload public bucket": "ok",
                     "sign private": "ok", "sign own": "ok", "create bucket": "ok",
                     "lists": ",".join([*sorted([OTHER, USER]), "shared.txt"]),
                     "removes other's file": "False"},
    "user": {"sees buckets": "False", "download public": HIDDEN, "download private": HIDDEN,
             "download own folder": "ok", "upload own folder": "ok",
             "upload other folder": DENIED, "upload public bucket": DENIED,
             "sign private": HIDDEN, "sign own": "ok", "create bucket": DENIED,
             "lists": USER, "removes other's file": "False"},
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("role", ["anon", "service_role", "user"])
async def test_rls_matrix(world: World, role: str, mode: str, stack: Target) -> None:
    got = await probe(world, role, mode)
    assert got == EXPECTED[role]
    if role == "service_role":
        admin = storage_for(world, "service_role", "sync")
        admin.delete_bucket(f"x-{role}-{mode}-{world.public}")


async def test_public_url_needs_public_bucket_not_a_key(world: World) -> None:
    base = f"{world.stack.url}/storage/v1/object/public"
    async with httpx.AsyncClient(timeout=60) as http:
        public = await http.get(f"{base}/{world.public}/pub/file.txt")
        private = await http.get(f"{base}/{world.private}/shared.txt")
    assert (public.status_code, public.content) == (200, b"public bytes")
    assert private.status_code == 400
    assert private.json() == {"statusCode": "404", "error": "Bucket not found",
                              "message": "Bucket not found"}


def test_user_files_stay_where_policies_put_them(world: World, db_url: str) -> None:
    user = storage_for(world, "user", "sync")
    assert user.from_(world.private).upload(f"{USER}/mine.txt", b"m").full_path.endswith("mine.txt")
    with pytest.raises(StorageApiError) as denied:
        user.from_(world.private).move(f"{USER}/mine.txt", f"{OTHER}/stolen.txt")
    assert (denied.value.status, denied.value.code) == ("403", "Unauthorized")
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT name, owner_id FROM storage.objects WHERE bucket_id = %s "
                            "AND owner_id IS NOT NULL ORDER BY name", (world.private,)).fetchall()
    # only the user's own uploads carry an owner, and all of them are in the user's folder
    assert rows and all(name.startswith(f"{USER}/") and owner == USER for name, owner in rows)
    with psycopg.connect(db_url) as conn:
        kept = conn.execute("SELECT count(*) FROM storage.objects WHERE bucket_id = %s AND name = %s",
                            (world.private, f"{OTHER}/b.txt")).fetchone()
    assert kept == (1,)


def test_refused_large_upload_gets_a_clean_answer(world: World) -> None:
    """Refused before the body is read: the body is drained, the client reads the 403."""
    anon = storage_for(world, "anon", "sync")
    with pytest.raises(StorageApiError) as refused:
        anon.from_(world.private).upload("big.bin", b"\x00" * 16_000_000)
    assert (refused.value.status, refused.value.code) == ("403", "Unauthorized")

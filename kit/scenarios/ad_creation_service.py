"""seeds/002: ``AdCreationService`` as the checkpoint wrote it, and three correct versions.

The broken one calls the *sync* storage client inside ``async def``: every download blocks
the event loop for its whole duration, so every other task (heartbeats, timeouts, other
requests) waits. It is not a race condition and it does not corrupt data. The HTML page the
checkpoint saw came from the edge (rate limit or origin error): the fixed versions refuse to
base64-encode an HTML page as if it were an image, and say what arrived instead.
"""

from __future__ import annotations

import asyncio
import base64

from supabase import AsyncClient, Client

IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


class NotAnImageError(ValueError):
    """Storage answered with something that is not an image (typically an HTML error page)."""

    def __init__(self, storage_path: str, data: bytes) -> None:
        head = data[:200].decode("utf-8", "replace").strip().replace("\n", " ")
        self.storage_path = storage_path
        self.data = data
        super().__init__(f"{storage_path}: expected image bytes, got {len(data)} bytes starting "
                         f"{head[:80]!r} (an HTML error page from the edge?)")


def looks_like_image(data: bytes) -> bool:
    return data.startswith(IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def split_storage_path(storage_path: str) -> tuple[str, str]:
    bucket, _, path = storage_path.partition("/")
    return bucket, path or storage_path


class _AdCreationServiceBase:
    """The client and the two buckets every version of the service is built with."""

    def __init__(self, supabase: Client, reference_bucket: str = "reference-ads",
                 generated_bucket: str = "generated-ads") -> None:
        self.supabase = supabase
        self.reference_bucket = reference_bucket
        self.generated_bucket = generated_bucket


class BrokenAdCreationService(_AdCreationServiceBase):
    """The checkpoint's code: sync storage calls inside ``async def`` (blocks the loop)."""

    async def upload_reference_ad(self, name: str, data: bytes, content_type: str = "image/webp") -> str:
        self.supabase.storage.from_(self.reference_bucket).upload(
            name, data, {"content-type": content_type, "upsert": "true"})
        return f"{self.reference_bucket}/{name}"

    async def upload_generated_ad(self, name: str, data: bytes, content_type: str = "image/webp") -> str:
        self.supabase.storage.from_(self.generated_bucket).upload(
            name, data, {"content-type": content_type, "upsert": "true"})
        return f"{self.generated_bucket}/{name}"

    async def download_image(self, storage_path: str) -> bytes:
        bucket, path = split_storage_path(storage_path)
        data = self.supabase.storage.from_(bucket).download(path)  # blocks the event loop
        return data

    async def get_image_as_base64(self, storage_path: str) -> str:
        image_data = await self.download_image(storage_path)
        return base64.b64encode(image_data).decode("utf-8")


class ToThreadAdCreationService(_AdCreationServiceBase):
    """Fix 1 (the checkpoint's): keep the sync client, run each call in a worker thread."""

    async def upload_reference_ad(self, name: str, data: bytes, content_type: str = "image/webp") -> str:
        await asyncio.to_thread(self.supabase.storage.from_(self.reference_bucket).upload,
                                name, data, {"content-type": content_type, "upsert": "true"})
        return f"{self.reference_bucket}/{name}"

    async def upload_generated_ad(self, name: str, data: bytes, content_type: str = "image/webp") -> str:
        await asyncio.to_thread(self.supabase.storage.from_(self.generated_bucket).upload,
                                name, data, {"content-type": content_type, "upsert": "true"})
        return f"{self.generated_bucket}/{name}"

    async def download_image(self, storage_path: str) -> bytes:
        bucket, path = split_storage_path(storage_path)
        data = await asyncio.to_thread(self.supabase.storage.from_(bucket).download, path)
        if not looks_like_image(data):
            raise NotAnImageError(storage_path, data)
        return data

    async def get_image_as_base64(self, storage_path: str) -> str:
        return base64.b64encode(await self.download_image(storage_path)).decode("ascii")


class AsyncAdCreationService(_AdCreationServiceBase):
    """Fix 2 (the better one): the native ``AsyncClient``, every call awaited."""

    client_kind = "async"
    supabase: AsyncClient  # type: ignore[assignment]

    async def upload_reference_ad(self, name: str, data: bytes, content_type: str = "image/webp") -> str:
        await self.supabase.storage.from_(self.reference_bucket).upload(
            name, data, {"content-type": content_type, "upsert": "true"})
        return f"{self.reference_bucket}/{name}"

    async def upload_generated_ad(self, name: str, data: bytes, content_type: str = "image/webp") -> str:
        await self.supabase.storage.from_(self.generated_bucket).upload(
            name, data, {"content-type": content_type, "upsert": "true"})
        return f"{self.generated_bucket}/{name}"

    async def download_image(self, storage_path: str) -> bytes:
        bucket, path = split_storage_path(storage_path)
        data = await self.supabase.storage.from_(bucket).download(path)
        if not looks_like_image(data):
            raise NotAnImageError(storage_path, data)
        return data

    async def get_image_as_base64(self, storage_path: str) -> str:
        return base64.b64encode(await self.download_image(storage_path)).decode("ascii")


class SyncAdCreationService(_AdCreationServiceBase):
    """Fix 3: no pretence of async: plain methods for sync callers (scripts, threads, Celery)."""

    def upload_reference_ad(self, name: str, data: bytes, content_type: str = "image/webp") -> str:
        self.supabase.storage.from_(self.reference_bucket).upload(
            name, data, {"content-type": content_type, "upsert": "true"})
        return f"{self.reference_bucket}/{name}"

    def upload_generated_ad(self, name: str, data: bytes, content_type: str = "image/webp") -> str:
        self.supabase.storage.from_(self.generated_bucket).upload(
            name, data, {"content-type": content_type, "upsert": "true"})
        return f"{self.generated_bucket}/{name}"

    def download_image(self, storage_path: str) -> bytes:
        bucket, path = split_storage_path(storage_path)
        data = self.supabase.storage.from_(bucket).download(path)
        if not looks_like_image(data):
            raise NotAnImageError(storage_path, data)
        return data

    def get_image_as_base64(self, storage_path: str) -> str:
        return base64.b64encode(self.download_image(storage_path)).decode("ascii")


IMPLEMENTATIONS: dict[str, type] = {
    "broken": BrokenAdCreationService,
    "to_thread": ToThreadAdCreationService,
    "async_client": AsyncAdCreationService,
    "sync": SyncAdCreationService,
}

"""A user's own services, as a scenario gets them by import path (``userapp.services:...``)."""

from __future__ import annotations

import asyncio
import base64

from supabase import Client


class GoodAdService:
    """A user's fixed service: to_thread, and a check that the bytes are an image."""

    def __init__(self, supabase: Client, reference_bucket: str = "reference-ads",
                 generated_bucket: str = "generated-ads") -> None:
        self.supabase = supabase
        self.generated_bucket = generated_bucket

    async def download_image(self, storage_path: str) -> bytes:
        bucket, _, path = storage_path.partition("/")
        data = await asyncio.to_thread(self.supabase.storage.from_(bucket).download, path)
        if data[:4] != b"RIFF":
            raise ValueError(f"{storage_path} is not a WEBP image")
        return data

    async def get_image_as_base64(self, storage_path: str) -> str:
        return base64.b64encode(await self.download_image(storage_path)).decode()

    async def upload_generated_ad(self, name: str, data: bytes, content_type: str) -> str:
        await asyncio.to_thread(self.supabase.storage.from_(self.generated_bucket).upload, name, data,
                                {"content-type": content_type, "upsert": "true"})
        return f"{self.generated_bucket}/{name}"


class SneakyAdService(GoodAdService):
    """A user's broken service: the sync download straight inside async def."""

    async def download_image(self, storage_path: str) -> bytes:
        bucket, _, path = storage_path.partition("/")
        return self.supabase.storage.from_(bucket).download(path)


class GoodMemoryService:
    """A user's fixed memory service on the sync client (plain methods)."""

    def __init__(self, supabase: Client, queries: object = None) -> None:
        from kit.scenarios.memory_service import SyncMemoryService

        self._inner = SyncMemoryService(supabase, queries)  # type: ignore[arg-type]
        self.request_update = self._inner.request_update
        self.claim = self._inner.claim
        self.complete = self._inner.complete
        self.get_memory = self._inner.get_memory


class DroppingMemoryService(GoodMemoryService):
    """Wrong: every third update is dropped, yet an id is returned as if it were queued."""

    def __init__(self, supabase: Client, queries: object = None) -> None:
        super().__init__(supabase, queries)
        self._calls = 0
        self.request_update = self._drop_every_third  # type: ignore[method-assign]

    def _drop_every_third(self, chat_id: str, messages: list[dict[str, str]]) -> int:
        self._calls += 1
        if self._calls % 3 == 0:
            return -self._calls
        return self._inner.request_update(chat_id, messages)


class TwiceMemoryService(GoodMemoryService):
    """Wrong: a "retry to be safe" that writes the summary a second time outside the queue's guard."""

    def __init__(self, supabase: Client, queries: object = None) -> None:
        super().__init__(supabase, queries)
        self.complete = self._complete_twice  # type: ignore[method-assign]

    def _complete_twice(self, item_id: int, worker: str, summary: str, added: int) -> bool:
        done = self._inner.complete(item_id, worker, summary, added)
        table = self._inner.queries.names.table("chat_metadata")
        item = self._inner.supabase.table(self._inner.queries.names.table("chat_context_queue")).select(
            "chat_id").eq("id", item_id).execute().data[0]
        current = self._inner.supabase.table(table).select("version").eq("chat_id", item["chat_id"]).execute().data
        if current:
            self._inner.supabase.table(table).update({"version": current[0]["version"] + 1}).eq(
                "chat_id", item["chat_id"]).execute()
        return done

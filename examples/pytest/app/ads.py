"""Ads: titles from the ``ads`` table, images from the ``ad-images`` bucket.

``AdImages.download_blocking`` is seeds/002's bug: a sync storage call inside ``async def``
blocks the event loop for the whole download. ``AdImages.download`` is the fix.
"""

from __future__ import annotations

import asyncio

from supabase import AsyncClient, Client

BUCKET = "ad-images"


class AdImages:
    def __init__(self, client: Client, bucket: str = BUCKET) -> None:
        self.client = client
        self.bucket = bucket

    async def download_blocking(self, path: str) -> bytes:
        return self.client.storage.from_(self.bucket).download(path)

    async def download(self, path: str) -> bytes:
        return await asyncio.to_thread(lambda: self.client.storage.from_(self.bucket).download(path))


class AdCatalog:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def titles(self) -> list[str]:
        result = await self.client.table("ads").select("title").order("id").execute()
        return [row["title"] for row in result.data]

    async def add(self, title: str) -> None:
        await self.client.table("ads").insert({"title": title}).execute()

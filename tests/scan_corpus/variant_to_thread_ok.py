# expect: none
"""Correct ways to run sync supabase calls from async code."""

import asyncio
import functools

import anyio
from supabase import Client


class Store:
    def __init__(self, client: Client) -> None:
        self.client = client

    def _download_blocking(self, path: str) -> bytes:
        return self.client.storage.from_("b").download(path)

    async def download_to_thread(self, path: str) -> bytes:
        return await asyncio.to_thread(self._download_blocking, path)

    async def download_partial(self, path: str) -> bytes:
        return await asyncio.to_thread(functools.partial(self.client.storage.from_("b").download, path))

    async def download_executor(self, path: str) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: self.client.storage.from_("b").download(path))

    async def download_anyio(self, path: str) -> bytes:
        return await anyio.to_thread.run_sync(self._download_blocking, path)

    async def rows(self) -> list:
        def fetch() -> list:
            return self.client.table("t").select("*").execute().data

        return await asyncio.to_thread(fetch)

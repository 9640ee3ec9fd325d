"""asyncio.to_thread / run_in_executor given async work: nothing runs."""

import asyncio

import anyio
from supabase import AsyncClient, acreate_client


async def refresh() -> None:
    await asyncio.sleep(0)


class Uploader:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def upload(self, path: str, data: bytes) -> None:
        await self.client.storage.from_("b").upload(path, data)

    async def run(self) -> None:
        await asyncio.to_thread(refresh)  # expect: KIT108
        await asyncio.to_thread(self.upload, "p", b"x")  # expect: KIT108
        await asyncio.to_thread(lambda: self.client.table("t").select("*").execute())  # expect: KIT108
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.upload, "p", b"x")  # expect: KIT108
        await anyio.to_thread.run_sync(refresh)  # expect: KIT108
        await asyncio.to_thread(acreate_client, "u", "k")  # expect: KIT108
        await asyncio.to_thread(print, "fine")  # expect: none

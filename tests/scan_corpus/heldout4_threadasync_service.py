"""Held out (batch 4): a service object that owns an AsyncClient and pushes work to threads."""

import asyncio

from supabase import AsyncClient, acreate_client


class Base:
    async def flush(self) -> None:
        await asyncio.sleep(0)


class Service(Base):
    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    @classmethod
    async def create(cls) -> "Service":
        return cls(await acreate_client("http://localhost", "key"))

    def sync_work(self, n: int) -> int:
        return n * 2

    async def save(self, row: dict) -> None:
        await asyncio.to_thread(self.client.table("rows").upsert(row).execute)  # expect: KIT108
        await asyncio.to_thread(self.sync_work, 3)  # expect: none
        await asyncio.to_thread(self.flush)  # expect: KIT108

    async def nested(self) -> None:
        async def inner() -> None:
            await self.client.table("rows").select("*").execute()

        await asyncio.to_thread(inner)  # expect: KIT108


class Worker:
    async def start(self) -> None:
        self._db = await acreate_client("http://localhost", "key")

    async def tick(self) -> None:
        await asyncio.to_thread(self._db.table("jobs").select("*").execute)  # expect: KIT108
        await asyncio.to_thread(self._db.auth.sign_out)  # expect: KIT108

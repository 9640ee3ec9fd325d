"""The app's own `async def`s handed to a worker thread: each call only makes a coroutine."""

import asyncio
import functools

import anyio
from supabase import AsyncClient

from threadasync_helper import get_db


class Ledger:
    def __init__(self, db: AsyncClient) -> None:
        self.db = db

    async def record(self, row: dict) -> None:
        await self.db.table("ledger").insert(row).execute()

    @staticmethod
    async def ping() -> None:
        await asyncio.sleep(0)

    def record_blocking(self, row: dict) -> None:
        print(row)

    async def run(self, row: dict) -> None:
        await asyncio.to_thread(self.record, row)  # expect: KIT108
        await asyncio.to_thread(Ledger.ping)  # expect: KIT108
        await anyio.to_thread.run_sync(get_db)  # expect: KIT108
        await asyncio.get_running_loop().run_in_executor(None, self.record, row)  # expect: KIT108
        await asyncio.to_thread(self.record_blocking, row)  # expect: none
        await asyncio.to_thread(functools.partial(print, row))  # expect: none

"""async def helpers that wrap supabase, called without await (and look-alikes that are fine)."""

import asyncio

from supabase import AsyncClient, acreate_client


class ChatStore:
    def __init__(self, db: AsyncClient) -> None:
        self.db = db

    async def save(self, message: dict) -> None:
        await self.db.table("messages").insert(message).execute()

    async def forget(self, chat_id: int) -> None:
        await self.db.table("messages").delete().eq("chat_id", chat_id).execute()

    async def handle(self, message: dict) -> None:
        self.save(message)  # expect: KIT103
        task = asyncio.create_task(self.save(message))  # expect: none
        await asyncio.gather(self.save(message), self.forget(1))  # expect: none
        await asyncio.wait_for(self.save(message), timeout=5)  # expect: none
        await task


async def log_usage(db: AsyncClient, tokens: int) -> None:
    await db.table("usage").insert({"tokens": tokens}).execute()


async def record(tokens: int) -> None:
    db = await acreate_client("http://localhost", "key")
    log_usage(db, tokens)  # expect: KIT103
    await log_usage(db, tokens)  # expect: none
    pending = log_usage(db, tokens)
    await pending


async def compute(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


async def no_supabase() -> None:
    await compute(1)  # expect: none


def sync_entry(store: ChatStore) -> None:
    store.save({"text": "hi"})  # expect: KIT103
    asyncio.run(store.save({"text": "hi"}))  # expect: none

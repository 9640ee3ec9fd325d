# expect: none
"""seeds/001 fix direction 2: keep async methods, run the sync calls in anyio's thread pool."""

import os

import anyio
from supabase import create_client


class MemoryService:
    def __init__(self) -> None:
        self.client = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])

    async def get_pending_queue(self, limit: int = 10) -> list:
        result = await anyio.to_thread.run_sync(
            lambda: self.client.table("chat_context_queue").select("*").eq("status", "pending").limit(limit).execute()
        )
        return result.data

    async def mark_processed(self, queue_id: str) -> None:
        query = self.client.table("chat_context_queue").update({"status": "done"}).eq("id", queue_id)
        await anyio.to_thread.run_sync(query.execute)

"""seeds/001: db/services/memory_service.py awaits a sync client's execute().

The client comes from an unannotated helper: provenance, not names, says it is sync.
"""

import os

from supabase import create_client


def get_supabase_client():
    return create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])


class MemoryService:
    def __init__(self):
        self.client = get_supabase_client()

    async def get_pending_queue(self, limit: int = 10):
        result = await self.client.table("chat_context_queue").select("*").eq("status", "pending").limit(limit).execute()  # expect: KIT101
        return result.data

    async def mark_processed(self, queue_id: str) -> None:
        await self.client.table("chat_context_queue").update({"status": "done"}).eq("id", queue_id).execute()  # expect: KIT101

    async def upsert_metadata(self, chat_id: str, summary: str) -> None:
        await self.client.table("chat_metadata").upsert({"chat_id": chat_id, "summary": summary}).execute()  # expect: KIT101

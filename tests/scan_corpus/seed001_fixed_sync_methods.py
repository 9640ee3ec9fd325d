# expect: none
"""seeds/001 fix direction 1: remove async from MemoryService methods (plain sync code)."""

import os

from supabase import Client, create_client


class MemoryService:
    def __init__(self) -> None:
        self.client: Client = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])

    def get_pending_queue(self, limit: int = 10) -> list:
        result = self.client.table("chat_context_queue").select("*").eq("status", "pending").limit(limit).execute()
        return result.data

    def mark_processed(self, queue_id: str) -> None:
        self.client.table("chat_context_queue").update({"status": "done"}).eq("id", queue_id).execute()

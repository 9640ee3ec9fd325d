# expect: none
"""seeds/002 "REUSABLE PATTERNS": Pattern 1 (sync storage through to_thread) and the
Pattern-for-reuse block. get_sync_client is not shown in the seed; here it is a real one."""

import asyncio

from supabase import Client, create_client


def get_sync_client() -> Client:
    return create_client("http://127.0.0.1:54321", "anon-key")


class MyService:
    def __init__(self):
        self.sync_client = get_sync_client()  # e.g., Supabase

    async def download(self, path: str) -> bytes:
        """Download file asynchronously using sync client"""
        data = await asyncio.to_thread(
            lambda: self.sync_client.storage.from_("bucket").download(path)
        )
        return data

    async def upload(self, path: str, data: bytes) -> str:
        """Upload file asynchronously using sync client"""
        await asyncio.to_thread(
            lambda: self.sync_client.storage.from_("bucket").upload(path, data)
        )
        return f"bucket/{path}"

    # ✅ CORRECT - Wrapped in thread pool
    async def my_method(self):
        result = await asyncio.to_thread(
            lambda: self.sync_client.table("t").select("*").execute()
        )
        return result

"""A cache that falls back to a supabase client picked with a conditional expression."""

import asyncio
import os

from supabase import acreate_client, create_client


def default_client():
    return create_client(os.environ.get("URL", "http://localhost"), os.environ.get("KEY", "k"))


class Cache:
    def __init__(self, backend=None, use_env: bool = False) -> None:
        self.backend = backend if backend else default_client()
        self.local: dict = {}

    async def get(self, key: str):
        if key in self.local:
            return self.local[key]
        await asyncio.sleep(0)
        row = self.backend.table("cache").select("value").eq("key", key).execute()  # expect: KIT102
        return row.data


async def warm() -> None:
    remote = (await acreate_client("http://localhost", "k")) if os.environ.get("ASYNC") else None
    if remote is not None:
        await remote.table("cache").select("*").execute()  # expect: none

"""Clients assigned through `or`, conditional expressions and walrus."""

import asyncio

from supabase import Client, create_client


def make_client() -> Client:
    return create_client("http://localhost", "key")


class Store:
    def __init__(self, client=None) -> None:
        self.client = client or make_client()
        self.backup = client if client is not None else make_client()

    async def save(self, row: dict) -> None:
        await asyncio.sleep(0)
        self.client.table("rows").insert(row).execute()  # expect: KIT102

    async def save_backup(self, row: dict) -> None:
        await asyncio.sleep(0)
        self.backup.table("rows").insert(row).execute()  # expect: KIT102


async def walrus() -> None:
    await asyncio.sleep(0)
    if (db := make_client()) is not None:
        db.table("w").select("*").execute()  # expect: KIT102


async def fine() -> None:
    db = None or make_client()
    await asyncio.to_thread(db.table("w").select("*").execute)  # expect: none

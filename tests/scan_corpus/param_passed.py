"""Clients that arrive by parameter: unannotated, the callers pass a known client."""

import asyncio

from supabase import acreate_client, create_client

sync_client = create_client("http://localhost", "key")


async def save_event(db, event: dict) -> None:
    db.table("events").insert(event).execute()  # expect: KIT102
    await asyncio.sleep(0)


async def read_events(db) -> list:
    await asyncio.sleep(0)
    return db.table("events").select("*").execute().data  # expect: KIT102


def count_rows(conn, table: str) -> int:
    return len(conn.table(table).select("id").execute().data)


async def report(conn) -> int:
    await asyncio.sleep(0)
    return count_rows(conn, "events")  # expect: KIT102


async def run_async_ok(db) -> list:
    result = await db.table("events").select("*").execute()  # expect: none
    return result.data


async def main() -> None:
    await save_event(sync_client, {"kind": "start"})
    await read_events(db=sync_client)
    await report(sync_client)
    async_client = await acreate_client("http://localhost", "key")
    await run_async_ok(async_client)


class Notifier:
    def __init__(self, store) -> None:
        self.store = store

    async def notify(self, user_id: str) -> None:
        await asyncio.sleep(0)
        self.store.table("notifications").insert({"user_id": user_id}).execute()  # expect: KIT102


notifier = Notifier(sync_client)


def unknown_caller(thing) -> None:
    audit(thing)


async def audit(thing) -> None:
    await asyncio.sleep(0)
    thing.table("audit").insert({}).execute()  # expect: none

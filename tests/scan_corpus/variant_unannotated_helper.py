"""Client from an unannotated helper (and a helper of a helper), used in async code."""

import os

import supabase


def _make():
    return supabase.create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])


def get_db():
    client = _make()
    return client


async def list_chats() -> list:
    db = get_db()
    rows = db.table("chats").select("*").execute()  # expect: KIT102
    await notify(len(rows.data))
    return rows.data


async def notify(count: int) -> None:
    db = get_db()
    await db.table("events").insert({"count": count}).execute()  # expect: KIT101

"""Awaiting sync helpers' results."""

from supabase import create_client

client = create_client("http://localhost", "key")


def get_row(key: str):
    return client.table("rows").select("*").eq("id", key).execute()


def get_client():
    return client


async def handler(key: str):
    row = await get_row(key)  # expect: KIT101
    db = await get_client()  # expect: KIT101
    return row, db

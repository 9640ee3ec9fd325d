"""Awaiting what is not awaitable: builders without .execute(), the execute method, sync auth."""

from supabase import AsyncClient, Client


async def builders(db: AsyncClient, sync_db: Client) -> None:
    await db.table("t").select("*")  # expect: KIT109
    await db.rpc("total", {"x": 1})  # expect: KIT109
    await db.table("t").insert({}).execute  # expect: KIT109
    await sync_db.table("t").select("*").eq("a", 1)  # expect: KIT109
    await db.table("t").select("*").execute()  # expect: none
    await db.rpc("total", {"x": 1}).execute()  # expect: none


async def sync_auth(sync_db: Client) -> None:
    await sync_db.auth.sign_out()  # expect: KIT101
    await sync_db.auth.get_user()  # expect: KIT101
    await sync_db.auth.sign_in_with_password({"email": "e", "password": "p"})  # expect: KIT101
    await sync_db.rpc("total", {}).execute()  # expect: KIT101
    await sync_db.storage.from_("b").download("x")  # expect: KIT101


async def look_alikes(db: AsyncClient, cache) -> None:
    await db.auth.sign_out()  # expect: none
    await cache.table("t").select("*")  # expect: none
    await db.storage.from_("b").download("x")  # expect: none

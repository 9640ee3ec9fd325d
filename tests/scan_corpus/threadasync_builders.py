"""An AsyncClient's I/O methods handed to a worker thread uncalled: the thread only makes a
coroutine, nothing awaits it, and the request is never sent."""

import asyncio
from asyncio import to_thread

import anyio
from supabase import AsyncClient, Client


async def list_orders(sb: AsyncClient) -> None:
    await asyncio.to_thread(sb.table("orders").select("*").order("id").execute)  # expect: KIT108
    await to_thread(sb.storage.from_("b").download, "a.png")  # expect: KIT108
    await asyncio.to_thread(sb.auth.get_user)  # expect: KIT108
    await anyio.to_thread.run_sync(sb.rpc("count_orders", {}).execute)  # expect: KIT108
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sb.table("orders").delete().eq("id", 1).execute)  # expect: KIT108
    await asyncio.to_thread(lambda: sb.table("orders").select("id").execute())  # expect: KIT108
    query = sb.table("orders").select("*").eq("paid", False)
    await asyncio.to_thread(query.execute)  # expect: KIT108
    await sb.table("orders").select("*").execute()  # expect: none


async def sync_client_in_a_thread_is_right(db: Client) -> None:
    await asyncio.to_thread(db.table("orders").select("*").execute)  # expect: none
    await asyncio.to_thread(db.auth.get_user)  # expect: none
    query = db.table("orders").select("*")
    await asyncio.to_thread(query.execute)  # expect: none

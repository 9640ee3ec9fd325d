"""The AsyncClient comes from a helper of the app (awaited, or a sync getter of a module-level
client); handing its calls to a thread sends nothing."""

import asyncio
import os

from supabase import AsyncClient, acreate_client

_client: AsyncClient | None = None


async def get_db() -> AsyncClient:
    return await acreate_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])


def current() -> AsyncClient:
    assert _client is not None
    return _client


async def make_client():
    return await acreate_client("http://localhost", "key")


async def mark_paid(order_id: int) -> None:
    db = await get_db()
    await asyncio.to_thread(db.table("orders").update({"paid": True}).eq("id", order_id).execute)  # expect: KIT108


async def audit() -> None:
    await asyncio.to_thread(current().table("audit").insert({"event": "x"}).execute)  # expect: KIT108


async def refresh() -> None:
    client = await make_client()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, client.auth.refresh_session)  # expect: KIT108
    await loop.run_in_executor(None, lambda: client.storage.list_buckets())  # expect: KIT108

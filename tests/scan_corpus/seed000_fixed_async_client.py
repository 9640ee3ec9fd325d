# expect: none
"""seeds/000, the other fix (DESIGN.md): build a real AsyncClient and keep the awaits."""

import os
from typing import Any

from supabase import AsyncClient, acreate_client

_client: AsyncClient | None = None


async def get_async_supabase() -> AsyncClient:
    global _client
    if _client is None:
        _client = await acreate_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])
    return _client


async def _log_llm(chat_id: str, usage_data: dict[str, Any]) -> None:
    async_supabase = await get_async_supabase()
    chat_record = await async_supabase.table("chats").select("user_id").eq("id", chat_id).single().execute()
    usage_data["user_id"] = chat_record.data["user_id"]
    await async_supabase.table("llm_usage").insert(usage_data).execute()

"""seeds/000 "After": the awaits dropped. No more TypeError, but the client is still sync:
each call now blocks the event loop inside the async _log_llm (the seed does not say so)."""

import os
from typing import Any

from supabase import create_client

async_supabase = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])


async def _log_llm(chat_id: str, usage_data: dict[str, Any]) -> None:  # expect: none
    # Line 75
    chat_record = async_supabase.table("chats").select("user_id").eq("id", chat_id).single().execute()  # expect: KIT102
    usage_data["user_id"] = chat_record.data["user_id"]
    # Line 115
    async_supabase.table("llm_usage").insert(usage_data).execute()  # expect: KIT102

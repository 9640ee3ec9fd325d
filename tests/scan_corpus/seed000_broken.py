"""seeds/000 "Before": apps/backend/utils/logging.py, lines 75 and 115.

The object named async_supabase is a sync Client (create_client), so both awaits raise
TypeError: object (Single)APIResponse can't be used in 'await' expression.
"""

import os
from typing import Any

from supabase import create_client

async_supabase = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])


async def _log_llm(chat_id: str, usage_data: dict[str, Any]) -> None:
    # Line 75
    chat_record = await async_supabase.table("chats").select("user_id").eq("id", chat_id).single().execute()  # expect: KIT101
    usage_data["user_id"] = chat_record.data["user_id"]
    # Line 115
    await async_supabase.table("llm_usage").insert(usage_data).execute()  # expect: KIT101

"""seeds/000 "Correct Usage Pattern" (sync code, correct) and "INCORRECT" (await on sync)."""

import os

from supabase import create_client

async_supabase = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])


def correct_usage() -> str | None:
    # ✅ CORRECT (in sync code)
    response = async_supabase.table("chats").select("user_id").execute()  # expect: none
    user_id = response.data[0]["user_id"] if response.data else None
    return user_id


async def incorrect_usage() -> None:
    # ❌ INCORRECT
    response = await async_supabase.table("chats").select("user_id").execute()  # expect: KIT101
    print(response)

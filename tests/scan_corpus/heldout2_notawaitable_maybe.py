"""await on sync results of different shapes."""

from supabase import create_client

sb = create_client("http://localhost", "key")


async def profile(user_id: str):
    row = await sb.table("profiles").select("*").eq("id", user_id).maybe_single().execute()  # expect: KIT101
    return row


async def upload(data: bytes) -> None:
    await sb.storage.from_("b").upload("f.bin", data)  # expect: KIT101


async def invoke() -> None:
    await sb.functions.invoke("hello", invoke_options={"body": {}})  # expect: KIT101


async def query_then():
    query = sb.table("profiles").select("*")
    return await query  # expect: KIT109

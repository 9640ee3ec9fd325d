"""Login flow of an async web app that was given a sync client."""

from supabase import Client, create_client

supabase: Client = create_client("http://localhost", "key")


async def login(email: str, password: str) -> str:
    session = await supabase.auth.sign_in_with_password({"email": email, "password": password})  # expect: KIT101
    return session.session.access_token


async def logout() -> None:
    await supabase.auth.sign_out()  # expect: KIT101


async def refresh() -> None:
    await supabase.auth.refresh_session()  # expect: KIT101


async def latest_orders() -> list:
    result = await supabase.table("orders").select("*").order("created_at", desc=True).limit(5)  # expect: KIT109
    return result.data


async def create_signed(path: str) -> dict:
    return await supabase.storage.from_("private").create_signed_url(path, 60)  # expect: KIT101

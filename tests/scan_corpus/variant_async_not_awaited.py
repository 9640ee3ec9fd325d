"""AsyncClient calls that are never awaited: coroutines that send no request."""

from supabase import AsyncClient, acreate_client


async def broken(client: AsyncClient) -> None:
    client.table("llm_usage").insert({"tokens": 1}).execute()  # expect: KIT103
    res = client.table("chats").select("*").execute()  # expect: KIT103
    print(res.data)
    url = client.storage.from_("images").get_public_url("a.png")  # expect: KIT103
    print(url.startswith("http"))
    coros = [client.table(t).delete().eq("id", 1).execute() for t in ("a", "b")]  # expect: KIT103
    print(len(coros))
    await client.auth.sign_out()  # expect: none


async def make_client_forgot_await() -> None:
    client = acreate_client("http://127.0.0.1:54321", "anon-key")  # expect: KIT103
    print(client)


async def returns_coroutine(client: AsyncClient):
    return client.table("chats").select("*").execute()  # expect: KIT103

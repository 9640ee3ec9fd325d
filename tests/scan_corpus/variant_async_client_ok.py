# expect: none
"""Correct AsyncClient use: awaited calls, gather, create_task, a coroutine awaited later."""

import asyncio

from supabase import AsyncClient, acreate_client


async def make() -> AsyncClient:
    return await acreate_client("http://127.0.0.1:54321", "anon-key")


async def main() -> None:
    client = await make()
    one = await client.table("chats").select("*").limit(1).execute()
    url = await client.storage.from_("images").get_public_url("a.png")
    many = await asyncio.gather(*[client.table(t).select("*").execute() for t in ("a", "b")])
    task = asyncio.create_task(client.storage.from_("images").download("a.png"))
    pending = client.table("chats").select("id").execute()
    later = await pending
    user = await client.auth.get_user()
    await client.functions.invoke("hello", {"body": {}})
    print(one, url, many, await task, later, user)


async def via_constructor() -> None:
    client = AsyncClient("http://127.0.0.1:54321", "anon-key")
    await client.rpc("add", {"a": 1}).execute()


def sync_wrapper(client: AsyncClient):
    return client.table("chats").select("*").execute()


if __name__ == "__main__":
    asyncio.run(main())

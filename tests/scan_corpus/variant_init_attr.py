"""Client attribute set in __init__ from an annotated parameter, and from a class attribute."""

from supabase import AsyncClient, Client


class Repo:
    def __init__(self, client: Client) -> None:
        self.db = client

    async def get(self, key: str) -> dict:  # expect: none
        res = self.db.table("kv").select("*").eq("k", key).single().execute()  # expect: KIT102
        return res.data


class AsyncRepo:
    client: AsyncClient

    async def get(self, key: str) -> dict:
        res = await self.client.table("kv").select("*").eq("k", key).single().execute()  # expect: none
        return res.data

    def forget(self, key: str) -> None:
        self.client.table("kv").delete().eq("k", key).execute()  # expect: KIT103

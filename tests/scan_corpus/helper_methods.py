"""Repository classes whose instances are known: the I/O is two method calls away."""

import asyncio

from supabase import AsyncClient, Client, create_client

client = create_client("http://localhost", "key")


class UserRepository:
    def __init__(self, db: Client) -> None:
        self.db = db

    def fetch(self, user_id: str) -> dict:
        return self.db.table("users").select("*").eq("id", user_id).execute().data

    def fetch_many(self, ids: list) -> list:
        return [self.fetch(i) for i in ids]

    def count(self) -> int:
        return 3  # no I/O


class UserService:
    def __init__(self) -> None:
        self.repo = UserRepository(client)

    def profile(self, user_id: str) -> dict:
        return {"user": self.repo.fetch(user_id)}

    async def handle(self, user_id: str) -> dict:
        profile = self.profile(user_id)  # expect: KIT102
        await asyncio.sleep(0)
        return profile

    async def handle_many(self, ids: list) -> list:
        found = self.repo.fetch_many(ids)  # expect: KIT102
        await asyncio.sleep(0)
        return found

    async def count_users(self) -> int:
        await asyncio.sleep(0)
        return self.repo.count()  # expect: none

    async def handle_off_loop(self, user_id: str) -> dict:
        return await asyncio.to_thread(self.profile, user_id)  # expect: none


class AsyncRepository:
    def __init__(self, db: AsyncClient) -> None:
        self.db = db

    def query(self, user_id: str):
        return self.db.table("users").select("*").eq("id", user_id).execute()

    async def get(self, user_id: str) -> dict:
        result = await self.query(user_id)  # expect: none
        return result.data


service = UserService()


async def webhook(user_id: str) -> dict:
    await asyncio.sleep(0)
    return service.profile(user_id)  # expect: KIT102

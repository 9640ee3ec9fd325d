"""aiogram-style bot: async repository helpers, some of their calls lose their await."""

import asyncio

from supabase import AsyncClient, acreate_client


class Repo:
    client: AsyncClient

    async def connect(self) -> None:
        self.client = await acreate_client("http://localhost", "key")

    async def add_user(self, tg_id: int) -> None:
        await self.client.table("users").upsert({"tg_id": tg_id}).execute()

    async def log(self, tg_id: int, text: str) -> None:
        await self.client.table("log").insert({"tg_id": tg_id, "text": text}).execute()


repo = Repo()


async def start_handler(message) -> None:
    repo.add_user(message.from_user.id)  # expect: KIT103
    await message.answer("hi")


async def echo_handler(message) -> None:
    asyncio.ensure_future(repo.log(message.from_user.id, message.text))  # expect: none
    repo.log(message.from_user.id, message.text)  # expect: KIT103
    await message.answer(message.text)


async def main() -> None:
    await repo.connect()

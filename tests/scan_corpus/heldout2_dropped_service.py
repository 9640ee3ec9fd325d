"""A service whose async methods are sometimes called without await, sometimes scheduled."""

import asyncio

from supabase import AsyncClient


class Audit:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.tasks: set = set()

    async def write(self, event: str) -> None:
        await self.client.table("audit").insert({"event": event}).execute()

    async def on_login(self, user: str) -> None:
        self.write(f"login {user}")  # expect: KIT103
        task = asyncio.get_running_loop().create_task(self.write("x"))  # expect: none
        self.tasks.add(task)

    def on_logout_sync(self, user: str) -> None:
        self.write(f"logout {user}")  # expect: KIT103

    async def many(self, events: list) -> None:
        await asyncio.gather(*[self.write(e) for e in events])  # expect: none

"""A queue worker: async helpers dropped without await, and a sync client awaited."""

import asyncio
import os

from supabase import AsyncClient, acreate_client, create_client

URL, KEY = os.environ.get("SUPABASE_URL", "http://localhost"), os.environ.get("SUPABASE_KEY", "k")
TABLE = os.environ.get("KIT_TABLE", "notes")


class Worker:
    def __init__(self, db: AsyncClient) -> None:
        self.db = db
        self.sync = create_client(URL, KEY)

    async def push(self, text: str) -> None:
        await self.db.table(TABLE).insert({"text": text}).execute()

    async def run(self) -> int:
        self.push("job-1")  # expect: KIT103
        await asyncio.sleep(0)
        done = await self.sync.table(TABLE).select("id").like("text", "job-%").execute()  # expect: KIT101
        return len(done.data)


async def main() -> None:
    worker = Worker(await acreate_client(URL, KEY))
    assert await worker.run() == 1
    print("jobs=1")


if __name__ == "__main__":
    asyncio.run(main())

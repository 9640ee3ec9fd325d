"""Background work: functions handed over are fine, calls dropped are not."""

import asyncio

from fastapi import BackgroundTasks, FastAPI
from supabase import acreate_client

app = FastAPI()


async def store_event(name: str) -> None:
    client = await acreate_client("http://localhost", "key")  # expect: KIT110
    await client.table("events").insert({"name": name}).execute()


@app.post("/events")
async def post_event(name: str, tasks: BackgroundTasks) -> dict:
    tasks.add_task(store_event, name)  # expect: none
    store_event(name)  # expect: KIT103
    asyncio.create_task(store_event(name))  # expect: none
    return {"queued": name}

"""Held out (batch 4): FastAPI dependencies that provide an AsyncClient, whose calls the routes
hand to a thread."""

import asyncio as aio
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import Depends, FastAPI
from supabase import AsyncClient, acreate_client

api = FastAPI()
pool = ThreadPoolExecutor(4)


async def get_db():
    return await acreate_client("http://localhost", "key")  # expect: KIT110


DB = Annotated[AsyncClient, Depends(get_db)]


@api.get("/items")
async def items(db: DB) -> list:
    res = await aio.to_thread(db.from_("items").select("*").limit(10).execute)  # expect: KIT108
    return res.data


@api.post("/hook")
async def hook(db=Depends(get_db)) -> None:
    await aio.to_thread(db.functions.invoke, "notify")  # expect: KIT108


@api.post("/upload")
async def upload(data: bytes, db: AsyncClient = Depends(get_db)) -> None:
    loop = aio.get_running_loop()
    await loop.run_in_executor(pool, db.storage.from_("b").upload, "p.bin", data)  # expect: KIT108
    await db.storage.from_("b").upload("q.bin", data)  # expect: none

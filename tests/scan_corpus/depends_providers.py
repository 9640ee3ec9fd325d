"""FastAPI dependency providers: the client reaches the handler through Depends()."""

import asyncio
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, FastAPI
from supabase import AsyncClient, Client, acreate_client, create_client

app = FastAPI()


@lru_cache
def get_supabase():
    return create_client("http://localhost", "key")


async def get_async_supabase():
    client = await acreate_client("http://localhost", "key")  # expect: KIT110
    yield client


@app.get("/a")
async def route_a(supabase=Depends(get_supabase)) -> list:
    return supabase.table("a").select("*").execute().data  # expect: KIT102


@app.get("/b")
async def route_b(db: Annotated[object, Depends(get_supabase)]) -> None:
    await asyncio.sleep(0)
    db.storage.from_("b").upload("x.png", b"")  # expect: KIT102


@app.get("/c")
async def route_c(db=Depends(get_async_supabase)) -> list:
    result = await db.table("c").select("*").execute()  # expect: none
    return result.data


@app.get("/d")
async def route_d(db=Depends(get_async_supabase)) -> None:
    db.table("d").delete().eq("id", 1).execute()  # expect: KIT103


@app.get("/e")
def route_e(db: Client = Depends(get_supabase)) -> list:
    return db.table("e").select("*").execute().data  # expect: none


@app.get("/f")
async def route_f(db: AsyncClient = Depends(get_async_supabase)) -> list:
    return (await db.table("f").select("*").execute()).data  # expect: none

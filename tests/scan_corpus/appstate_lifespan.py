"""A client made once in a lifespan / startup hook, kept in app.state, read in handlers."""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from supabase import create_client


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.supabase = create_client("http://localhost", "key")
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/items")
async def list_items(request: Request) -> list:
    rows = request.app.state.supabase.table("items").select("*").execute()  # expect: KIT102
    return rows.data


@app.post("/items")
async def add_item(request: Request, item: dict) -> dict:
    db = request.app.state.supabase
    await asyncio.sleep(0)
    return db.table("items").insert(item).execute().data  # expect: KIT102


@app.get("/items/{item_id}")
async def get_item(item_id: str) -> dict:
    await asyncio.sleep(0)
    return app.state.supabase.table("items").select("*").eq("id", item_id).execute().data  # expect: KIT102


@app.get("/fine")
async def fine(request: Request) -> list:
    db = request.app.state.supabase
    rows = await asyncio.to_thread(lambda: db.table("items").select("*").execute())  # expect: none
    return rows.data

"""An AsyncClient kept in app.state by a lifespan, handed to a thread by the routes."""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from supabase import acreate_client


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.async_db = await acreate_client("http://localhost", "key")
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/orders")
async def orders(request: Request) -> list:
    sb = request.app.state.async_db
    result = await asyncio.to_thread(sb.table("orders").select("*").execute)  # expect: KIT108
    return result.data


@app.post("/orders/{oid}/ship")
async def ship(oid: int, request: Request) -> None:
    loop = asyncio.get_running_loop()
    update = request.app.state.async_db.table("orders").update({"shipped": True}).eq("id", oid).execute
    await loop.run_in_executor(None, update)  # expect: KIT108


@app.get("/ok")
async def ok(request: Request) -> list:
    result = await request.app.state.async_db.table("orders").select("*").execute()  # expect: none
    return result.data

"""An AsyncClient in app.state made in a startup hook: awaited is right, not awaited is not."""

from fastapi import FastAPI, Request
from supabase import acreate_client

api = FastAPI()


@api.on_event("startup")
async def startup() -> None:
    api.state.db = await acreate_client("http://localhost", "key")


@api.get("/a")
async def a(request: Request) -> list:
    result = await request.app.state.db.table("a").select("*").execute()  # expect: none
    return result.data


@api.get("/b")
async def b(request: Request) -> None:
    request.app.state.db.table("b").insert({}).execute()  # expect: KIT103

"""FastAPI docs style: an Annotated alias for the dependency, used by several routes."""

from typing import Annotated

from fastapi import Depends, FastAPI
from supabase import Client, create_client

app = FastAPI()
client = create_client("http://localhost", "key")


def get_db() -> Client:
    return client


DB = Annotated[Client, Depends(get_db)]
Untyped = Annotated[object, Depends(get_db)]


@app.get("/a")
async def a(db: DB) -> list:
    return db.table("a").select("*").execute().data  # expect: KIT102


@app.get("/b")
async def b(db: Untyped) -> list:
    return db.table("b").select("*").execute().data  # expect: KIT102


@app.get("/c")
def c(db: DB) -> list:
    return db.table("c").select("*").execute().data  # expect: none

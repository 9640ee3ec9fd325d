"""A client built per request (leaks connections) and the look-alikes that are fine."""

import os
from functools import lru_cache

from fastapi import APIRouter, Depends
from supabase import Client, acreate_client, create_client

router = APIRouter()
URL, KEY = os.environ.get("SUPABASE_URL", "http://localhost"), os.environ.get("SUPABASE_KEY", "k")
shared = create_client(URL, KEY)  # expect: none
_cached: Client | None = None


@router.get("/a")
async def route_a() -> list:
    client = await acreate_client(URL, KEY)  # expect: KIT110
    result = await client.table("a").select("*").execute()
    return result.data


def new_client() -> Client:
    return create_client(URL, KEY)  # expect: KIT110


def get_db():
    return create_client(URL, KEY)  # expect: KIT110


@router.get("/b")
def route_b() -> list:
    return new_client().table("b").select("*").execute().data


@router.get("/c")
def route_c(db: Client = Depends(get_db)) -> list:
    return db.table("c").select("*").execute().data


@lru_cache
def cached_client() -> Client:
    return create_client(URL, KEY)  # expect: none


def lazy_client() -> Client:
    global _cached
    if _cached is None:
        _cached = create_client(URL, KEY)  # expect: none
    return _cached


def closing_provider():
    client = create_client(URL, KEY)  # expect: none
    try:
        yield client
    finally:
        client.postgrest.session.close()
        client.auth.sign_out()


@router.get("/d")
def route_d(a: Client = Depends(cached_client), b: Client = Depends(closing_provider)) -> list:
    return lazy_client().table("d").select("*").execute().data + [a, b]


def script_main() -> None:
    client = create_client(URL, KEY)  # expect: none
    client.table("x").select("*").execute()

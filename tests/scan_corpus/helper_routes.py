"""FastAPI routes calling the sync helpers of helper_db_users.py from coroutines."""

import asyncio
from functools import partial

from fastapi import APIRouter
from helper_db_users import avatar_url, get_user, list_orders, load_profile, slugify

router = APIRouter()


@router.get("/users/{user_id}")
async def read_user(user_id: str) -> dict:
    return get_user(user_id)  # expect: KIT102


@router.get("/users/{user_id}/orders")
async def read_orders(user_id: str) -> list:
    orders = list_orders(user_id)  # expect: KIT102
    await asyncio.sleep(0)
    return orders


@router.get("/users/{user_id}/profile")
async def read_profile(user_id: str) -> dict:
    return {"profile": load_profile(user_id)}  # expect: KIT102


@router.get("/users/{user_id}/fine")
async def read_user_off_loop(user_id: str) -> dict:
    user = await asyncio.to_thread(get_user, user_id)  # expect: none
    loop = asyncio.get_running_loop()
    orders = await loop.run_in_executor(None, partial(list_orders, user_id))  # expect: none
    again = await loop.run_in_executor(None, lambda: load_profile(user_id))  # expect: none
    return {"user": user, "orders": orders, "again": again, "slug": slugify("A b"),  # expect: none
            "avatar": avatar_url("a.png")}  # expect: none


def sync_route(user_id: str) -> dict:
    return get_user(user_id)  # expect: none


@router.get("/users/{user_id}/orders-awaited")
async def read_orders_awaited(user_id: str) -> list:
    return await list_orders(user_id)  # expect: KIT102

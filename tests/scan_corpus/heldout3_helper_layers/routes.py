"""Sanic-style routes three layers above the SDK call."""

import asyncio

import heldout3_helper_layers.services.users as user_service
from heldout3_helper_layers.services.users import UserRepo


async def rename(request, key: str):
    user_service.rename_user(key, request.json["name"])  # expect: KIT102
    return {"ok": True}


async def show(request, key: str):
    repo = UserRepo()
    await asyncio.sleep(0)
    return repo.get(key)  # expect: KIT102


async def show_fixed(request, key: str):
    repo = UserRepo()
    return await asyncio.to_thread(repo.get, key)  # expect: none

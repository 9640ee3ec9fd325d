"""Handlers built by a factory closing over the client; sanic-style app.ctx."""

import asyncio

from supabase import create_client


def make_handlers(db):
    async def list_items(request):
        await asyncio.sleep(0)
        return db.table("items").select("*").execute().data  # expect: KIT102

    async def count(request):
        return await asyncio.to_thread(lambda: db.table("items").select("id").execute())  # expect: none

    return list_items, count


handlers = make_handlers(create_client("http://localhost", "key"))


def setup(app) -> None:
    app.ctx.supabase = create_client("http://localhost", "key")


async def from_ctx(request):
    rows = request.app.ctx.supabase.table("items").select("*").execute()  # expect: KIT102
    return rows.data

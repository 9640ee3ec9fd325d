"""An async def that awaits other things AND makes a sync storage call: the case that type
checkers and ruff's ASYNC rules do not report."""

import asyncio

import httpx
from supabase import create_client

storage_client = create_client("http://127.0.0.1:54321", "service-role-key")


async def make_thumbnail(path: str) -> bytes:
    async with httpx.AsyncClient() as http:
        meta = await http.get(f"https://example.test/meta/{path}")
    await asyncio.sleep(0)
    original = storage_client.storage.from_("images").download(path)  # expect: KIT102
    storage_client.storage.from_("thumbs").upload(path, original[:100])  # expect: KIT102
    signed = storage_client.storage.from_("thumbs").create_signed_url(path, 60)  # expect: KIT102
    url = storage_client.storage.from_("thumbs").get_public_url(path)  # expect: none
    return meta.content + original + str(signed).encode() + url.encode()

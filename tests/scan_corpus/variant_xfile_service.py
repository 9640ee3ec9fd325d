"""Clients from a helper defined in another scanned file, imported by name."""

import variant_xfile_db
from variant_xfile_db import get_async_db, get_db, shared


class ChatService:
    def __init__(self):
        self.db = get_db()

    async def history(self, chat_id: str) -> list:
        await self.touch(chat_id)
        return self.db.table("messages").select("*").eq("chat_id", chat_id).execute().data  # expect: KIT102

    async def touch(self, chat_id: str) -> None:
        db = await get_async_db()
        await db.table("chats").update({"seen": True}).eq("id", chat_id).execute()  # expect: none
        db.table("chats").select("*").execute()  # expect: KIT103


async def ping() -> None:
    shared.table("ping").select("*").execute()  # expect: KIT102
    variant_xfile_db.shared.storage.from_("b").download("x")  # expect: KIT102
    await shared.table("ping").select("*").execute()  # expect: KIT101

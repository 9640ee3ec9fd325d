"""discord.py cog: the client is handed in by the bot's setup and used in async listeners."""

import asyncio

from supabase import create_client


class Levels:
    def __init__(self, bot, storage) -> None:
        self.bot = bot
        self.storage = storage

    async def on_message(self, message) -> None:
        if message.author.bot:
            return
        row = self.storage.from_("levels").select("xp").eq("user", message.author.id).execute()  # expect: KIT102
        await message.channel.send(f"xp: {row.data}")

    async def leaderboard(self, ctx) -> None:
        top = await asyncio.to_thread(
            lambda: self.storage.from_("levels").select("*").order("xp").limit(10).execute())  # expect: none
        await ctx.send(str(top.data))


def award(storage, user_id: int, amount: int) -> None:
    storage.rpc("add_xp", {"uid": user_id, "amount": amount}).execute()


async def on_reaction(storage, user_id: int) -> None:
    await asyncio.sleep(0)
    award(storage, user_id, 5)  # expect: KIT102


async def setup(bot) -> None:
    supa = create_client("http://localhost", "key")
    bot.add_cog(Levels(bot, supa))
    await on_reaction(supa, 1)

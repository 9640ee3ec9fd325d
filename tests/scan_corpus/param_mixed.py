"""Look-alikes: a parameter that gets a sync client from one caller and an async one from another
is not guessed; a keyword argument is followed."""
# expect: none

import asyncio

from supabase import acreate_client, create_client


async def write(db, row: dict) -> None:
    await asyncio.sleep(0)
    db.table("rows").insert(row)


async def both() -> None:
    await write(create_client("http://localhost", "key"), {})
    await write(await acreate_client("http://localhost", "key"), {})


def helper(db=None):
    return db


async def uses_helper() -> None:
    await asyncio.sleep(0)
    helper()

"""A small app with one bug of each fixable kind; tests/test_scan_fix.py runs it against the
embedded stack before (it fails) and after `kit scan --fix` (it works and scans clean)."""

import asyncio
import os

from supabase import acreate_client, create_client

URL, KEY = os.environ.get("SUPABASE_URL", "http://localhost"), os.environ.get("SUPABASE_KEY", "k")
TABLE = os.environ.get("KIT_TABLE", "notes")
client = create_client(URL, KEY)


def add_note(db, text: str):
    # a sync helper: fine on its own
    return db.table(TABLE).insert({"text": text}).execute()


def count_notes() -> int:
    return len(client.table(TABLE).select("id").execute().data)


async def save(text: str) -> None:
    add_note(client, text)  # expect: KIT102
    add_note(client, text.upper())  # expect: KIT102
    await asyncio.sleep(0)


async def read(text: str) -> list:
    rows = await client.table(TABLE).select("*").eq("text", text).execute()  # expect: KIT101
    return rows.data


async def archive(text: str) -> None:
    db = await acreate_client(URL, KEY)
    db.table(TABLE).update({"archived": True}).eq("text", text).execute()  # expect: KIT103
    await asyncio.sleep(0)


async def archived() -> list:
    db = await acreate_client(URL, KEY)
    result = await db.table(TABLE).select("text").eq("archived", True)  # expect: KIT109
    return [row["text"] for row in result.data]


async def count_archived() -> int:
    db = await acreate_client(URL, KEY)
    result = await asyncio.to_thread(db.table(TABLE).select("id").eq("archived", True).execute)  # expect: KIT108
    return len(result.data)


async def main() -> None:
    await save("first")
    rows = await read("first")
    assert [row["text"] for row in rows] == ["first"], rows
    await archive("first")
    assert await archived() == ["first"]
    assert await count_archived() == 1
    total = client.table(TABLE).select("id").execute().data  # expect: KIT102
    print(f"notes={len(total)} counted={count_notes()}")  # expect: KIT102


if __name__ == "__main__":
    asyncio.run(main())

"""`# kit: ignore[CODE]` and bare `# kit: ignore` silence one line."""

from supabase import create_client

client = create_client("u", "k")


async def handler() -> None:
    client.table("a").select("*").execute()  # kit: ignore[KIT102]
    client.table("b").select("*").execute()  # kit: ignore
    client.table("c").select("*").execute()  # kit: ignore[KIT101]  # expect: KIT102
    client.table("d").select("*").execute()  # kit: ignore[KIT103, KIT102]
    await client.table("e").select("*").execute()  # kit: ignore[kit101]

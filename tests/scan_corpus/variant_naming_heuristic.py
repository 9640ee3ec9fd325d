"""Unknown provenance: only supabase-looking names are flagged, and only at low confidence."""


async def handle(supabase_client, repo, sb) -> None:
    supabase_client.table("a").select("*").execute()  # expect: KIT102:low
    repo.table("a").select("*").execute()  # expect: none
    sb.storage.from_("b").download("x")  # expect: KIT102:low
    await supabase_client.table("a").select("*").execute()  # expect: none

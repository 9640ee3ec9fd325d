"""Every way to get a client: aliases, module attributes, private modules, classmethods."""

import supabase
import supabase as sb_module
from supabase import AClient
from supabase import create_client as mk
from supabase._sync.client import SyncClient
from supabase.client import Client as PlainClient

c1 = mk("u", "k")
c2 = supabase.create_client("u", "k")
c3 = sb_module.Client("u", "k")
c4 = supabase.Client.create("u", "k")


async def uses(sync_client: SyncClient, other: "PlainClient | None", ac: AClient) -> None:
    c1.table("a").select("*").execute()  # expect: KIT102
    c2.storage.from_("b").remove(["x"])  # expect: KIT102
    c3.auth.sign_in_with_password({"email": "e", "password": "p"})  # expect: KIT102
    c4.functions.invoke("fn")  # expect: KIT102
    sync_client.rpc("f").execute()  # expect: KIT102
    if other is not None:
        other.storage.list_buckets()  # expect: KIT102
    await ac.table("a").select("*").execute()  # expect: none
    await sync_client.table("a").select("*").execute()  # expect: KIT101


async def factory_alias() -> None:
    client = await sb_module.acreate_client("u", "k")
    await client.table("a").select("*").execute()  # expect: none
    await supabase.create_client("u", "k")  # expect: KIT101

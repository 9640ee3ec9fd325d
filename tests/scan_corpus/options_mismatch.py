"""Sync options into the async factory, async options into the sync one, and the right pairs."""

import httpx
from supabase import (AsyncClientOptions, ClientOptions, acreate_client, create_client)
from supabase.lib.client_options import SyncClientOptions


async def build() -> None:
    await acreate_client("http://localhost", "key", options=ClientOptions(schema="public"))  # expect: KIT107
    await acreate_client("http://localhost", "key", SyncClientOptions())  # expect: KIT107
    opts = ClientOptions(postgrest_client_timeout=10)
    await acreate_client("http://localhost", "key", options=opts)  # expect: KIT107
    create_client("http://localhost", "key", options=AsyncClientOptions())  # expect: KIT107
    await acreate_client("http://localhost", "key", options=AsyncClientOptions())  # expect: none
    create_client("http://localhost", "key", options=ClientOptions())  # expect: none
    create_client("http://localhost", "key", options=SyncClientOptions(httpx_client=httpx.Client()))  # expect: none
    await acreate_client("http://localhost", "key",  # expect: none
                         options=AsyncClientOptions(httpx_client=httpx.AsyncClient()))

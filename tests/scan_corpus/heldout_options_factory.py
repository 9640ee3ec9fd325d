"""A client factory module that picks options for the async client."""

import httpx
from supabase import AsyncClientOptions, ClientOptions, acreate_client, create_client
from supabase.lib.client_options import SyncClientOptions

TIMEOUT = httpx.Timeout(30.0)


def sync_options() -> ClientOptions:
    return ClientOptions(postgrest_client_timeout=30)


async def make_async():
    return await acreate_client("http://localhost", "key", options=sync_options())  # expect: KIT107


async def make_async_ok():
    opts = AsyncClientOptions(httpx_client=httpx.AsyncClient(timeout=TIMEOUT))
    return await acreate_client("http://localhost", "key", options=opts)  # expect: none


def make_sync():
    return create_client("http://localhost", "key", options=SyncClientOptions(schema="api"))  # expect: none

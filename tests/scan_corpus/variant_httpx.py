"""The httpx client injected into supabase's client options must match the client kind."""

import httpx
from supabase import AsyncClientOptions, ClientOptions
from supabase.lib.client_options import SyncClientOptions

sync_http = httpx.Client(timeout=120)
async_http = httpx.AsyncClient(timeout=120)

wrong_async = AsyncClientOptions(httpx_client=httpx.Client())  # expect: KIT107
wrong_async_var = AsyncClientOptions(httpx_client=sync_http)  # expect: KIT107
wrong_sync = ClientOptions(httpx_client=async_http)  # expect: KIT107
wrong_sync2 = SyncClientOptions(httpx_client=httpx.AsyncClient())  # expect: KIT107

right_async = AsyncClientOptions(httpx_client=async_http)  # expect: none
right_sync = ClientOptions(httpx_client=sync_http)  # expect: none
right_sync2 = SyncClientOptions(httpx_client=httpx.Client(follow_redirects=True))  # expect: none

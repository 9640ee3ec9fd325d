"""Auth, functions, rpc and bucket calls: blocking on a sync Client, coroutines on an AsyncClient."""

from supabase import AsyncClient, Client


async def sign_in(sync: Client, async_client: AsyncClient) -> None:
    await async_client.auth.sign_in_with_password({"email": "e", "password": "p"})  # expect: none
    sync.auth.sign_in_with_password({"email": "e", "password": "p"})  # expect: KIT102
    sync.auth.admin.list_users()  # expect: KIT102
    sync.auth.on_auth_state_change(print)  # expect: none
    sync.functions.invoke("hello")  # expect: KIT102
    sync.rpc("add", {"a": 1}).execute()  # expect: KIT102
    sync.storage.create_bucket("b")  # expect: KIT102
    sync.storage.from_("b").get_public_url("x")  # expect: none
    async_client.auth.get_user()  # expect: KIT103
    async_client.functions.invoke("hello")  # expect: KIT103
    async_client.storage.list_buckets()  # expect: KIT103
    await async_client.storage.from_("b").exists("x")  # expect: none
    await sync.storage.from_("b").get_public_url("x")  # expect: KIT101

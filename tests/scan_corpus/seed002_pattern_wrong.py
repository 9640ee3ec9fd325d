"""seeds/002 "Pattern for Reuse", the ❌ WRONG half. The seed's `some_operation()` is a
placeholder; here it is a real supabase call on a real sync client."""

from supabase import create_client


class MyService:
    def __init__(self):
        self.sync_client = create_client("http://127.0.0.1:54321", "anon-key")

    # ❌ WRONG - Sync call in async method
    async def my_method(self):  # expect: none
        result = self.sync_client.table("t").select("*").execute()  # expect: KIT102
        return result

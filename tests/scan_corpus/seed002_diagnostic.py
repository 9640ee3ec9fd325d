# expect: none
"""seeds/002 "Pattern 2: Diagnostic Script Template": sync calls inside an async def whose
client comes from an unknown module and is named `client` (no heuristic: not a supabase-ish
name), and asyncio.run at the script's top level (fine outside a running loop)."""

import asyncio
import os

from myapp.core.client import get_client


async def debug_operation():
    """Diagnose [operation] issues"""
    client = get_client()

    print("=== [SERVICE] DEBUG ===")
    print(f"Config: {os.getenv('SERVICE_URL')}")
    try:
        result = client.health_check()
        print(f"Connected: {result}")
    except Exception as e:
        print(f"Connection failed: {e}")
        return
    data = client.do_operation()
    print(f"   Data size: {len(data)}")


if __name__ == "__main__":
    asyncio.run(debug_operation())

"""A package module of helpers, imported relatively."""
# expect: none

from supabase import create_client

_client = None


def client():
    global _client
    if _client is None:
        _client = create_client("http://localhost", "key")
    return _client


def fetch_orders(customer: str) -> list:
    return client().table("orders").select("*").eq("customer", customer).execute().data

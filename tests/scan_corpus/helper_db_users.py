"""Sync data-access helpers (a db/users.py of a FastAPI app): fine in themselves."""
# expect: none

import os

from supabase import Client, create_client

supabase: Client = create_client(os.environ.get("SUPABASE_URL", "http://localhost"),
                                 os.environ.get("SUPABASE_KEY", "key"))


def get_user(user_id: str) -> dict:
    return supabase.table("users").select("*").eq("id", user_id).single().execute().data


def list_orders(user_id: str) -> list:
    rows = supabase.table("orders").select("*").eq("user_id", user_id).execute()
    return rows.data


def load_profile(user_id: str) -> dict:
    user = get_user(user_id)  # a chain: load_profile -> get_user -> execute
    return {"user": user, "orders": list_orders(user_id)}


def slugify(name: str) -> str:
    return name.lower().replace(" ", "-")  # no I/O


def avatar_url(path: str) -> str:
    return supabase.storage.from_("avatars").get_public_url(path)  # builds a URL, no I/O

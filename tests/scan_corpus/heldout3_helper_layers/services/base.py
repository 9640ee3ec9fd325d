"""A generic repository: subclasses name their table."""
# expect: none

from ..clients import settings


class BaseRepo:
    table = ""

    def __init__(self) -> None:
        self.client = settings.supabase

    def get(self, key: str) -> dict:
        return self.client.table(self.table).select("*").eq("id", key).single().execute().data

    def put(self, row: dict) -> None:
        self.client.table(self.table).upsert(row).execute()

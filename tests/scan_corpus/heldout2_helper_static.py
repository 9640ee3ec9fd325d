"""Static and class methods, a dataclass repository, a class-level client."""

import asyncio
from dataclasses import dataclass

from supabase import Client, create_client


class Settings:
    supabase = create_client("http://localhost", "key")

    @classmethod
    def table(cls, name: str):
        return cls.supabase.table(name)


class Users:
    @staticmethod
    def find(user_id: str) -> dict:
        return Settings.supabase.table("users").select("*").eq("id", user_id).execute().data

    @classmethod
    def all(cls) -> list:
        return Settings.supabase.table("users").select("*").execute().data


@dataclass
class Repo:
    db: Client

    def names(self) -> list:
        return [r["name"] for r in self.db.table("users").select("name").execute().data]


repo = Repo(Settings.supabase)


async def handler(user_id: str) -> dict:
    await asyncio.sleep(0)
    user = Users.find(user_id)  # expect: KIT102
    everyone = Users.all()  # expect: KIT102
    names = repo.names()  # expect: KIT102
    try:
        extra = [Users.find(i) for i in ("a", "b")]  # expect: KIT102
    finally:
        pass
    return {"user": user, "all": everyone, "names": names, "extra": extra}

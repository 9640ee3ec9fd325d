"""A service class built per request whose __init__ makes a client."""

from fastapi import APIRouter
from supabase import create_client

router = APIRouter()


class ReportService:
    def __init__(self) -> None:
        self.client = create_client("http://localhost", "key")  # expect: KIT110

    def totals(self) -> list:
        return self.client.table("totals").select("*").execute().data


class Singleton:
    def __init__(self) -> None:
        self.client = create_client("http://localhost", "key")  # expect: none


singleton = Singleton()


@router.get("/report")
def report() -> list:
    return ReportService().totals()


@router.get("/other")
def other() -> list:
    return singleton.client.table("x").select("*").execute().data

"""FastAPI with a service layer provided through Depends and a yield-based client provider."""

from fastapi import APIRouter, Depends
from supabase import Client, create_client

router = APIRouter(prefix="/tasks")
_client = create_client("http://localhost", "key")


def client_provider():
    yield _client


class TaskService:
    def __init__(self, db) -> None:
        self.db = db

    def open_tasks(self, owner: str) -> list:
        return self.db.table("tasks").select("*").eq("owner", owner).eq("done", False).execute().data

    def close(self, task_id: int) -> None:
        self.db.table("tasks").update({"done": True}).eq("id", task_id).execute()


def task_service(db: Client = Depends(client_provider)) -> TaskService:
    return TaskService(db)


@router.get("/{owner}")
async def list_open(owner: str, service: TaskService = Depends(task_service)) -> list:
    return service.open_tasks(owner)  # expect: KIT102


@router.post("/{task_id}/close")
async def close_task(task_id: int, db=Depends(client_provider)) -> dict:
    db.table("tasks").update({"done": True}).eq("id", task_id).execute()  # expect: KIT102
    return {"closed": task_id}


@router.get("/sync/{owner}")
def list_open_sync(owner: str, service: TaskService = Depends(task_service)) -> list:
    return service.open_tasks(owner)  # expect: none

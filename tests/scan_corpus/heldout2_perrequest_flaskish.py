"""A per-request client created in a middleware, and a safe module-level one."""

from fastapi import FastAPI, Request
from supabase import create_client

app = FastAPI()
anon = create_client("http://localhost", "anon")  # expect: none


@app.middleware("http")
async def attach_client(request: Request, call_next):
    request.state.sb = create_client("http://localhost", request.headers.get("apikey", ""))  # expect: KIT110
    return await call_next(request)


def user_client(token: str):
    sb = create_client("http://localhost", "anon")  # expect: KIT110
    sb.postgrest.auth(token)
    return sb


@app.get("/me")
def me(request: Request) -> dict:
    return user_client(request.headers["authorization"]).table("me").select("*").execute().data

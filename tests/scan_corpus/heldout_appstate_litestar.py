"""Starlette app: the client lives on app.state, created in an on_startup hook."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from supabase import create_client


def init_db(app: Starlette) -> None:
    app.state.sb_client = create_client("http://localhost", "key")


async def profile(request: Request) -> JSONResponse:
    client = request.app.state.sb_client
    user = client.auth.get_user(request.headers["authorization"])  # expect: KIT102
    return JSONResponse({"id": user.user.id})


async def files(request: Request) -> JSONResponse:
    listing = request.app.state.sb_client.storage.from_("docs").list()  # expect: KIT102
    return JSONResponse(listing)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"state": str(request.app.state.started)})  # expect: none


app = Starlette(routes=[Route("/me", profile), Route("/files", files), Route("/health", health)])
init_db(app)

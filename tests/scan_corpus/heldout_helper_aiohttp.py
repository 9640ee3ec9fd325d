"""aiohttp service: handlers reach supabase through a data layer class and module functions."""

import asyncio

from aiohttp import web
from supabase import Client, create_client

routes = web.RouteTableDef()


def connect() -> Client:
    return create_client("http://localhost", "service-key")


class Inventory:
    def __init__(self, sb: Client) -> None:
        self._sb = sb

    def stock(self, sku: str) -> int:
        row = self._sb.table("stock").select("qty").eq("sku", sku).maybe_single().execute()
        return row.data["qty"] if row and row.data else 0

    def reserve(self, sku: str, qty: int) -> None:
        current = self.stock(sku)
        self._sb.table("stock").update({"qty": current - qty}).eq("sku", sku).execute()


inventory = Inventory(connect())


def price_for(sku: str) -> float:
    return 9.99


@routes.get("/stock/{sku}")
async def get_stock(request: web.Request) -> web.Response:
    sku = request.match_info["sku"]
    qty = inventory.stock(sku)  # expect: KIT102
    return web.json_response({"sku": sku, "qty": qty, "price": price_for(sku)})  # expect: none


@routes.post("/reserve/{sku}")
async def reserve(request: web.Request) -> web.Response:
    body = await request.json()
    inventory.reserve(request.match_info["sku"], body["qty"])  # expect: KIT102
    return web.json_response({"ok": True})


@routes.post("/reserve-fixed/{sku}")
async def reserve_fixed(request: web.Request) -> web.Response:
    body = await request.json()
    await asyncio.to_thread(inventory.reserve, request.match_info["sku"], body["qty"])  # expect: none
    return web.json_response({"ok": True})

"""Relative imports of a module and of a function."""

import asyncio

from . import db
from .db import fetch_orders


async def orders(customer: str) -> list:
    await asyncio.sleep(0)
    first = db.fetch_orders(customer)  # expect: KIT102
    second = fetch_orders(customer)  # expect: KIT102
    third = await asyncio.to_thread(db.fetch_orders, customer)  # expect: none
    return first + second + third

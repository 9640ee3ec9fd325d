"""Un-awaited asyncio.sleep: the pattern that code generated from async sources falls into."""

import asyncio
import time
from asyncio import sleep

import anyio


def retry_sync(attempts: int) -> None:
    for attempt in range(attempts):
        asyncio.sleep(2**attempt)  # expect: KIT106
        time.sleep(0)  # expect: none


async def poll() -> None:
    sleep(1)  # expect: KIT106
    await asyncio.sleep(1)  # expect: none
    anyio.sleep(1)  # expect: KIT106
    await anyio.sleep(1)  # expect: none
    await asyncio.wait_for(asyncio.sleep(1), timeout=2)  # expect: none

"""asyncio.run / run_until_complete inside a running loop."""

import asyncio
from asyncio import run as run_coroutine


async def fetch() -> int:
    return 1


async def handler() -> int:
    value = asyncio.run(fetch())  # expect: KIT105
    loop = asyncio.get_event_loop()
    other = loop.run_until_complete(fetch())  # expect: KIT105
    third = run_coroutine(fetch())  # expect: KIT105
    return value + other + third


def sync_entry() -> int:
    return asyncio.run(fetch())  # expect: none


if __name__ == "__main__":
    print(asyncio.run(handler()))  # expect: none

"""seeds/001: scripts/workers/memory_processor.py, using MemoryService from another file.

Awaiting the service's async methods is fine; reaching through to its (sync) client is not.
"""

import asyncio

from seed001_memory_service import MemoryService


async def process_once(service: MemoryService) -> int:
    pending = await service.get_pending_queue()  # expect: none
    for item in pending:
        service.client.table("chat_metadata").insert({"chat_id": item["chat_id"]}).execute()  # expect: KIT102
        await service.mark_processed(item["id"])
    return len(pending)


async def main() -> None:
    service = MemoryService()
    while True:
        await process_once(service)
        await asyncio.sleep(5)


if __name__ == "__main__":
    asyncio.run(main())  # expect: none

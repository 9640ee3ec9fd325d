"""seeds/001: ``MemoryService`` and its queue worker, broken as the checkpoint had it and fixed.

The queries are written once (``MemoryQueries``); the services differ only in *how* they
run them. That is the whole bug: ``await query.execute()`` is right when the query came
from an ``AsyncClient`` and a ``TypeError`` ("object APIResponse can't be used in 'await'
expression") when it came from the sync ``Client`` — the worker's error in the checkpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supabase import AsyncClient, Client

from kit.arena import call_off_loop
from kit.scenarios.base import Names


@dataclass(frozen=True)
class MemoryQueries:
    """What the service asks Supabase, independent of sync or async."""

    names: Names = field(default_factory=Names)

    def enqueue(self, client: Any, chat_id: str, messages: list[dict[str, str]]) -> Any:
        return client.table(self.names.table("chat_context_queue")).insert(
            {"chat_id": chat_id, "messages": messages})

    def claim(self, client: Any, worker: str, batch_size: int, lease_seconds: int, chat_prefix: str) -> Any:
        return client.rpc(self.names.function("claim_context_items"), {
            "worker": worker, "batch_size": batch_size, "lease_seconds": lease_seconds,
            "chat_prefix": chat_prefix})

    def complete(self, client: Any, item_id: int, worker: str, summary: str, added: int) -> Any:
        return client.rpc(self.names.function("complete_context_item"), {
            "item_id": item_id, "worker": worker, "new_summary": summary, "added_messages": added})

    def memory(self, client: Any, chat_id: str) -> Any:
        return client.table(self.names.table("chat_metadata")).select(
            "chat_id,summary,message_count,version").eq("chat_id", chat_id).limit(1)


class _AsyncMemoryServiceBase:
    """The service's methods, written once over ``_execute``."""

    def __init__(self, supabase: Any, queries: MemoryQueries | None = None) -> None:
        self.supabase = supabase
        self.queries = queries or MemoryQueries()

    async def _execute(self, query: Any) -> Any:
        raise NotImplementedError

    async def request_update(self, chat_id: str, messages: list[dict[str, str]]) -> int:
        """``POST /memory/update``: queue new messages for summarising; returns the item id."""
        response = await self._execute(self.queries.enqueue(self.supabase, chat_id, messages))
        return int(response.data[0]["id"])

    async def claim(self, worker: str, batch_size: int = 1, lease_seconds: int = 30,
                    chat_prefix: str = "") -> list[dict[str, Any]]:
        response = await self._execute(
            self.queries.claim(self.supabase, worker, batch_size, lease_seconds, chat_prefix))
        return list(response.data or [])

    async def complete(self, item_id: int, worker: str, summary: str, added: int) -> bool:
        response = await self._execute(self.queries.complete(self.supabase, item_id, worker, summary, added))
        return bool(response.data)

    async def get_memory(self, chat_id: str) -> dict[str, Any] | None:
        """``GET /memory/{chat_id}``."""
        response = await self._execute(self.queries.memory(self.supabase, chat_id))
        return response.data[0] if response.data else None


class BrokenMemoryService(_AsyncMemoryServiceBase):
    """The checkpoint's code: ``async`` methods that ``await`` a sync client's ``execute()``."""

    def __init__(self, supabase: Client, queries: MemoryQueries | None = None) -> None:
        super().__init__(supabase, queries)

    async def _execute(self, query: Any) -> Any:
        return await query.execute()  # TypeError: APIResponse can't be used in 'await' expression


class AsyncMemoryService(_AsyncMemoryServiceBase):
    """Fixed with the native ``AsyncClient``: the very same ``await``, now on a coroutine."""

    client_kind = "async"

    def __init__(self, supabase: AsyncClient, queries: MemoryQueries | None = None) -> None:
        super().__init__(supabase, queries)

    async def _execute(self, query: Any) -> Any:
        return await query.execute()


class ToThreadMemoryService(_AsyncMemoryServiceBase):
    """Fixed by keeping the sync client and running each call in a worker thread."""

    def __init__(self, supabase: Client, queries: MemoryQueries | None = None) -> None:
        super().__init__(supabase, queries)

    async def _execute(self, query: Any) -> Any:
        return await asyncio.to_thread(query.execute)


class SyncMemoryService:
    """Fixed by not pretending: plain methods on the sync client (the worker calls them in a thread)."""

    def __init__(self, supabase: Client, queries: MemoryQueries | None = None) -> None:
        self.supabase = supabase
        self.queries = queries or MemoryQueries()

    def request_update(self, chat_id: str, messages: list[dict[str, str]]) -> int:
        return int(self.queries.enqueue(self.supabase, chat_id, messages).execute().data[0]["id"])

    def claim(self, worker: str, batch_size: int = 1, lease_seconds: int = 30,
              chat_prefix: str = "") -> list[dict[str, Any]]:
        query = self.queries.claim(self.supabase, worker, batch_size, lease_seconds, chat_prefix)
        return list(query.execute().data or [])

    def complete(self, item_id: int, worker: str, summary: str, added: int) -> bool:
        return bool(self.queries.complete(self.supabase, item_id, worker, summary, added).execute().data)

    def get_memory(self, chat_id: str) -> dict[str, Any] | None:
        data = self.queries.memory(self.supabase, chat_id).execute().data
        return data[0] if data else None


IMPLEMENTATIONS: dict[str, type] = {
    "broken": BrokenMemoryService,
    "to_thread": ToThreadMemoryService,
    "async_client": AsyncMemoryService,
    "sync": SyncMemoryService,
}


def mock_summary(messages: list[dict[str, str]]) -> str:
    """``USE_MOCK_LLM=true``: a deterministic summary, no model, no cost."""
    digest = hashlib.sha256(repr(messages).encode()).hexdigest()[:8]
    last = messages[-1]["content"] if messages else ""
    return f"{len(messages)} messages; last: {last[:60]!r}; digest {digest}"


@dataclass
class WorkerStats:
    worker: str
    processed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def run_worker(service: Any, worker: str, *, chat_prefix: str, stop_when_idle: asyncio.Event,
                     lease_seconds: int = 3, idle_sleep: float = 0.05,
                     summarise: Callable[[list[dict[str, str]]], str] = mock_summary) -> WorkerStats:
    """``scripts/workers/memory_processor``: claim, summarise, complete, until the queue is empty.

    Errors (an HTML 502 from the edge, a reset connection) are recorded and the loop goes
    on: the claim's lease makes a lost item come back, and completion is idempotent.
    """
    stats = WorkerStats(worker)
    while not stop_when_idle.is_set():
        try:
            items = await call_off_loop(service.claim, worker, 1, lease_seconds, chat_prefix)
        except Exception as exc:  # the worker must survive a bad response: record, retry
            stats.errors.append(f"claim: {type(exc).__name__}: {exc}"[:300])
            await asyncio.sleep(idle_sleep)
            continue
        if not items:
            await asyncio.sleep(idle_sleep)
            continue
        for item in items:
            try:
                done = await call_off_loop(service.complete, item["id"], worker,
                                          summarise(item["messages"]), len(item["messages"]))
                if done:
                    stats.processed.append(int(item["id"]))
            except Exception as exc:
                stats.errors.append(f"complete {item['id']}: {type(exc).__name__}: {exc}"[:300])
    return stats

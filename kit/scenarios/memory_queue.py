"""Scenario ``memory_queue`` (seeds/001): ``MemoryService`` awaits a sync client; the worker dies.

    s = kit.scenarios.memory_queue(kit.target("embedded"))
    s.setup()                                  # tables + claim/complete RPCs, row chat-1 (IF NOT EXISTS)
    s.end_to_end("to_thread")                  # POST memory update → worker → GET memory
    s.signed_in_end_to_end()                   # the same as a signed-in user under RLS, broken vs fixed
    s.process_queue("async_client", workers=4, items=12, fault_profile="flaky-rpc")
    s.checks()
"""

from __future__ import annotations

import asyncio
import html
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.arena import call_off_loop, run_in_arena
from kit.checks import Check, Checks
from kit.scenarios import memory_service as ms
from kit.scenarios.base import Scenario, apply_schema, label_of
from kit.scenarios.fault_profiles import fault_rules
from kit.scenarios.interface import Interface, Method

SCHEMA = Path(__file__).with_name("memory_schema.sql")
TABLES = ["conversations", "chat_metadata", "chat_context_queue"]
FUNCTIONS = ["claim_context_items", "complete_context_item"]
FIXED = ("to_thread", "async_client", "sync")


@dataclass
class QueueRun:
    """One run of the queue: every update asked for, what the workers did, what the database says.

    The check counts from what was *asked*, not from what an implementation reported: an
    update whose enqueue failed or was dropped is lost; an update queued twice, completed
    twice, or summarised into its chat more often than asked (the worker's own effect:
    ``chat_metadata.version`` grows once per summary) is done twice.
    """

    variant: str
    workers: int
    enqueued: list[int]  # ids the implementation's request_update returned
    times_processed: dict[int, int]  # queue row id → times completed
    stats: list[ms.WorkerStats]
    wall_ms: float
    fault_profile: str = "none"
    enqueue_errors: list[str] = field(default_factory=list)
    asked: dict[str, str] = field(default_factory=dict)  # update marker → chat id
    rows: dict[str, list[int]] = field(default_factory=dict)  # update marker → queue row ids
    summaries: dict[str, int] = field(default_factory=dict)  # chat id → summaries written

    def _processed(self, marker: str) -> int:
        return sum(self.times_processed.get(i, 0) for i in self.rows.get(marker, []))

    @property
    def lost(self) -> list[str]:
        """Updates asked for that no worker completed (never queued, or never processed)."""
        return [m for m in self.asked if self._processed(m) == 0]

    @property
    def duplicated(self) -> list[str]:
        """Updates queued or completed more than once."""
        return [m for m in self.asked if self._processed(m) > 1 or len(self.rows.get(m, [])) > 1]

    @property
    def effects_off(self) -> dict[str, tuple[int, int]]:
        """Chats whose summaries written differ from the updates asked: ``{chat: (written, asked)}``."""
        wanted = Counter(self.asked.values())
        return {chat: (self.summaries.get(chat, 0), n) for chat, n in wanted.items()
                if self.summaries.get(chat, 0) != n}

    @property
    def exactly_once(self) -> bool:
        return bool(self.asked) and not (self.lost or self.duplicated or self.effects_off)

    @property
    def worker_errors(self) -> list[str]:
        return [e for s in self.stats for e in s.errors]

    def __repr__(self) -> str:
        return (f"<QueueRun {self.variant}: {len(self.asked)} updates, {self.workers} workers, "
                f"lost {len(self.lost)}, duplicated {len(self.duplicated)}, "
                f"{len(self.effects_off)} chats summarised a wrong number of times, "
                f"{len(self.worker_errors)} worker errors>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(f"<tr><td>{html.escape(s.worker)}</td><td>{len(s.processed)}</td>"
                       f"<td>{len(s.errors)}</td><td>{html.escape(s.errors[0] if s.errors else '')}</td></tr>"
                       for s in self.stats)
        verdict = ("every update processed exactly once" if self.exactly_once else
                   html.escape(_describe(self)))
        return {"text/plain": repr(self),
                "text/html": f"<p><b>{html.escape(self.variant)}</b> with {self.workers} workers, faults "
                             f"<code>{html.escape(self.fault_profile)}</code>: {verdict} "
                             f"({self.wall_ms:.0f} ms)</p><table><tr><th>worker</th><th>processed</th>"
                             f"<th>errors</th><th>first error</th></tr>{rows}</table>"}


class MemoryQueueScenario(Scenario):
    name = "memory_queue"
    title = "Memory queue: async methods awaiting a sync client"
    seed = "001_b94fccaa79f549a2.txt"
    notebook = "02_memory_queue.ipynb"
    implementations = ms.IMPLEMENTATIONS
    tables = tuple(TABLES)
    interface = Interface("memory_queue", "(supabase: Client | AsyncClient, queries: MemoryQueries = None)", (
        Method("request_update", "(self, chat_id: str, messages: list[dict]) -> int",
               "enqueues one item and returns its id"),
        Method("claim", "(self, worker: str, batch_size: int, lease_seconds: int, chat_prefix: str) -> list[dict]",
               "leases items so 1 or 4 workers process each exactly once, under faults too"),
        Method("complete", "(self, item_id: int, worker: str, summary: str, added: int) -> bool",
               "idempotent: an item is never counted twice"),
        Method("get_memory", "(self, chat_id: str) -> dict | None", "returns the stored summary"),
    ))

    def service_options(self) -> dict[str, Any]:
        return {"queries": ms.MemoryQueries(self.names)}

    def schema_sql(self) -> str:
        return self.names.sql(SCHEMA.read_text())

    def setup(self) -> list[str]:
        """Apply the migration non-destructively (IF NOT EXISTS, ON CONFLICT DO NOTHING)."""
        apply_schema(self.target, self.schema_sql(), tables=[self.names.table(t) for t in TABLES],
                     functions=[self.names.function(f) for f in FUNCTIONS], ledger=self.ledger)
        self._setup_done = True
        return [self.names.table(t) for t in TABLES]

    def process_queue(self, which: str | type = "to_thread", *, workers: int = 1, items: int = 8,
                      fault_profile: str = "none", seed: int = 7, timeout_s: float = 60.0) -> QueueRun:
        """Enqueue ``items`` updates, run ``workers`` workers until all are done (or the timeout)."""
        self.require_setup()
        prefix = f"kit-{uuid.uuid4().hex[:8]}-"
        chat_ids = [f"{prefix}{n}" for n in range(max(1, items // 2))]
        self._create_conversations(chat_ids)
        rules = fault_rules(fault_profile, seed=seed)
        make_service, close = self.service_factory(which, None)
        make_faulty, close_faulty = self.service_factory(which, rules)

        async def main() -> QueueRun:
            producer = make_service()
            consumer = make_faulty()
            started = time.perf_counter()
            asked = {f"{prefix}update-{n}": chat_ids[n % len(chat_ids)] for n in range(items)}
            enqueued: list[int] = []
            errors: list[str] = []
            try:
                for marker, chat_id in asked.items():  # every update is asked for, whatever fails
                    try:
                        enqueued.append(await call_off_loop(producer.request_update, chat_id,
                                                            [{"role": "user", "content": marker}]))
                    except Exception as exc:  # the broken service fails here: that is the finding
                        errors.append(f"{type(exc).__name__}: {exc}")
                stop = asyncio.Event()
                tasks = [asyncio.create_task(ms.run_worker(consumer, f"worker-{w}", chat_prefix=prefix,
                                                           stop_when_idle=stop, lease_seconds=2))
                         for w in range(workers)]
                deadline = time.monotonic() + timeout_s
                while time.monotonic() < deadline:
                    queued = await asyncio.to_thread(self._queue_rows, prefix)
                    if not queued or all(r["times_processed"] >= 1 for r in queued):
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.1)  # let in-flight completions land before stopping
                stop.set()
                stats = list(await asyncio.gather(*tasks))
            finally:
                await close()
                await close_faulty()
            queued = self._queue_rows(prefix)
            rows: dict[str, list[int]] = {}
            for row in queued:
                for message in row["messages"] if isinstance(row["messages"], list) else []:
                    if isinstance(message, dict) and message.get("content") in asked:
                        rows.setdefault(message["content"], []).append(int(row["id"]))
            return QueueRun(label_of(which), workers, enqueued,
                            {int(r["id"]): int(r["times_processed"]) for r in queued}, stats,
                            (time.perf_counter() - started) * 1000, fault_profile, errors, asked, rows,
                            self._summaries(chat_ids))

        return run_in_arena(main, name=f"kit-arena-queue-{label_of(which)}")

    def panel_choices(self) -> dict[str, Any]:
        return {**super().panel_choices(), "concurrency": (1, 8, 4)}

    def panel_run(self, implementation: str, concurrency: int, fault_profile: str) -> QueueRun:
        return self.process_queue(implementation, workers=concurrency, items=8, fault_profile=fault_profile)

    def end_to_end(self, which: str | type = "to_thread") -> dict[str, Any]:
        """The checkpoint's E2E: POST memory update for chat-1 → worker → GET memory."""
        self.require_setup()
        make_service, close = self.service_factory(which, None)

        async def main() -> dict[str, Any]:
            service = make_service()
            try:
                item = await call_off_loop(service.request_update, "chat-1",
                                             [{"role": "user", "content": "Remember: I prefer bar charts."}])
                await self.work_until_processed(service, item, chat_prefix="chat-1")
                memory = await call_off_loop(service.get_memory, "chat-1")
                return {"item": item, "memory": memory}
            finally:
                await close()

        return run_in_arena(main, name="kit-arena-e2e")

    async def work_until_processed(self, service: Any, item: int, *, chat_prefix: str,
                                   worker: str = "e2e-worker") -> ms.WorkerStats:
        """Run one queue worker on ``service`` until ``item`` is processed (10 s at most)."""
        stop = asyncio.Event()
        task = asyncio.create_task(ms.run_worker(service, worker, chat_prefix=chat_prefix,
                                                 stop_when_idle=stop))
        try:
            for _ in range(200):
                if (await asyncio.to_thread(self._times_processed, [item])).get(item):
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
        return await task

    def signed_in_end_to_end(self, implementation: str | type | None = None) -> Any:
        """The checkpoint's full run as a registered, signed-in user under RLS, the broken
        service next to ``implementation`` (default: the to_thread and AsyncClient fixes).
        Returns a ``SideBySide`` (steps × variants; ``.checks()``); see memory_queue_e2e."""
        from kit.scenarios.memory_queue_e2e import signed_in_side_by_side

        fixed = [implementation] if implementation else ["to_thread", "async_client"]
        return signed_in_side_by_side(self, ["broken", *fixed])

    def broken_worker_error(self) -> BaseException | None:
        """What the checkpoint's worker hit: the first call of the broken service."""
        make_service, close = self.service_factory("broken", None)

        async def main() -> BaseException | None:
            service = make_service()
            try:
                await service.claim("broken-worker", 1, 30, "nothing-")
            except Exception as exc:  # the expected TypeError is the result
                return exc
            finally:
                await close()
            return None

        return run_in_arena(main, name="kit-arena-broken-worker")

    def checks(self, implementation: str | type | None = None, *, items: int = 8,
               fault_profile: str = "flaky-rpc", seed: int = 7) -> Checks:
        self.require_setup()
        checks = Checks(scenario=self.name)
        for which in ([implementation] if implementation else list(FIXED)):
            label = label_of(which)
            for workers in (1, 4):
                run = self.process_queue(which, workers=workers, items=items)
                checks.add(Check(f"{label}: every item processed exactly once with {workers} worker(s)",
                                 run.exactly_once, _describe(run), figures={"wall_ms": round(run.wall_ms, 1)}))
            faulty = self.process_queue(which, workers=4, items=items, fault_profile=fault_profile, seed=seed)
            checks.add(Check(f"{label}: nothing lost or done twice with faults '{fault_profile}'",
                             faulty.exactly_once, _describe(faulty) + f"; {len(faulty.worker_errors)} "
                             "worker errors survived"))
        if implementation is None:
            e2e = self.end_to_end("to_thread")
            memory = e2e["memory"] or {}
            checks.add(Check("end to end: POST update → worker → GET memory returns the summary",
                             "bar charts" in str(memory.get("summary", "")), str(memory)[:200]))
            error = self.broken_worker_error()
            checks.add(Check("broken: the worker fails with \"can't be used in 'await' expression\"",
                             isinstance(error, TypeError) and "can't be used in 'await' expression" in str(error),
                             f"{type(error).__name__}: {error}", expected_failure=True))
        return checks

    def _create_conversations(self, chat_ids: list[str]) -> None:
        self.admin.table(self.names.table("conversations")).upsert(
            [{"id": chat_id, "metadata": {}} for chat_id in chat_ids]).execute()

    def _times_processed(self, item_ids: list[int]) -> dict[int, int]:
        rows = self.admin.table(self.names.table("chat_context_queue")).select(
            "id,times_processed").in_("id", item_ids).execute().data
        return {int(r["id"]): int(r["times_processed"]) for r in rows}

    def _queue_rows(self, prefix: str) -> list[dict[str, Any]]:
        return list(self.admin.table(self.names.table("chat_context_queue")).select(
            "id,messages,times_processed").like("chat_id", f"{prefix}%").execute().data)

    def _summaries(self, chat_ids: list[str]) -> dict[str, int]:
        """How many summaries the workers wrote per chat (``version`` grows by one each)."""
        rows = self.admin.table(self.names.table("chat_metadata")).select(
            "chat_id,version").in_("chat_id", chat_ids).execute().data
        return {r["chat_id"]: int(r["version"]) for r in rows}


def _describe(run: QueueRun) -> str:
    if not run.asked:
        return "no update was asked for"
    text = (f"{len(run.asked)} updates asked, {len(run.enqueued)} enqueued, lost {len(run.lost)}, "
            f"duplicated {len(run.duplicated)}")
    if run.effects_off:
        text += "; summaries written/asked per chat: " + ", ".join(
            f"{chat} {w}/{n}" for chat, (w, n) in sorted(run.effects_off.items()))
    if run.enqueue_errors:
        text += f"; {len(run.enqueue_errors)} enqueue errors, first: {run.enqueue_errors[0][:120]}"
    return text + f"; {run.wall_ms:.0f} ms"

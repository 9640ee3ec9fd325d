"""seeds/000: ``_log_llm`` in a coordinator → sql agent → viz agent pipeline.

The checkpoint said the async client's ``execute()`` "is not a coroutine" and removed the
``await``. That is wrong: ``AsyncClient`` builders' ``execute()`` *is* ``async def``. The
object they awaited was a sync ``Client`` under the name ``async_supabase``. Both real fixes
are here: drop the ``await`` on the sync client (and keep it off the loop), or build the
client with ``acreate_client`` and keep the ``await``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, ClassVar

from supabase import AsyncClient, Client

from kit.scenarios.base import Names


@dataclass(frozen=True)
class Usage:
    agent: str
    model: str
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class LoggingQueries:
    names: Names = field(default_factory=Names)

    def chat_owner(self, client: Any, chat_id: str) -> Any:
        return client.table(self.names.table("chats")).select("user_id").eq("id", chat_id).single()

    def insert_usage(self, client: Any, row: dict[str, Any]) -> Any:
        return client.table(self.names.table("llm_usage")).insert(row)


def usage_row(chat_id: str, user_id: str | None, usage: Usage) -> dict[str, Any]:
    return {"chat_id": chat_id, "user_id": user_id, "agent": usage.agent, "model": usage.model,
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}


class BrokenLlmLogger:
    """The checkpoint's ``utils/logging.py``: a sync ``Client`` named ``async_supabase``, awaited."""

    def __init__(self, async_supabase: Client, queries: LoggingQueries | None = None) -> None:
        self.async_supabase = async_supabase  # a sync Client, despite the name
        self.queries = queries or LoggingQueries()

    async def _log_llm(self, chat_id: str, usage: Usage) -> None:
        chat_record = await self.queries.chat_owner(self.async_supabase, chat_id).execute()  # line 75
        row = usage_row(chat_id, chat_record.data["user_id"], usage)
        await self.queries.insert_usage(self.async_supabase, row).execute()  # line 115


class AsyncLlmLogger:
    """Fix A: a real ``AsyncClient`` (from ``acreate_client``): keep the ``await``."""

    client_kind = "async"

    def __init__(self, async_supabase: AsyncClient, queries: LoggingQueries | None = None) -> None:
        self.async_supabase = async_supabase
        self.queries = queries or LoggingQueries()

    async def _log_llm(self, chat_id: str, usage: Usage) -> None:
        chat_record = await self.queries.chat_owner(self.async_supabase, chat_id).execute()
        row = usage_row(chat_id, chat_record.data["user_id"], usage)
        await self.queries.insert_usage(self.async_supabase, row).execute()


class ToThreadLlmLogger:
    """Fix B: keep the sync client, drop the ``await`` on it, and run it off the loop."""

    def __init__(self, supabase: Client, queries: LoggingQueries | None = None) -> None:
        self.supabase = supabase
        self.queries = queries or LoggingQueries()

    async def _log_llm(self, chat_id: str, usage: Usage) -> None:
        await asyncio.to_thread(self._log_llm_sync, chat_id, usage)

    def _log_llm_sync(self, chat_id: str, usage: Usage) -> None:
        chat_record = self.queries.chat_owner(self.supabase, chat_id).execute()
        row = usage_row(chat_id, chat_record.data["user_id"], usage)
        self.queries.insert_usage(self.supabase, row).execute()


class SyncLlmLogger:
    """Fix C: sync code, sync client, no ``await`` (for sync pipelines)."""

    def __init__(self, supabase: Client, queries: LoggingQueries | None = None) -> None:
        self.supabase = supabase
        self.queries = queries or LoggingQueries()

    def _log_llm(self, chat_id: str, usage: Usage) -> None:
        chat_record = self.queries.chat_owner(self.supabase, chat_id).execute()
        row = usage_row(chat_id, chat_record.data["user_id"], usage)
        self.queries.insert_usage(self.supabase, row).execute()


IMPLEMENTATIONS: dict[str, type] = {
    "broken": BrokenLlmLogger,
    "async_client": AsyncLlmLogger,
    "to_thread": ToThreadLlmLogger,
    "sync": SyncLlmLogger,
}


class MockLlm:
    """``USE_MOCK_LLM=true``: deterministic answers and token counts per agent."""

    ANSWERS: ClassVar[dict[str, str]] = {
        "coordinator_agent": "dashboard initialisation: one KPI widget",
        "sql_agent": "SELECT SUM(SALES) AS total_sales_revenue FROM csv_data;",
        "viz_agent": "kpi, table, bar, area",
    }

    def complete(self, agent: str, prompt: str) -> tuple[str, Usage]:
        answer = self.ANSWERS[agent]
        return answer, Usage(agent, "mock-llm-1", len(prompt.split()) + 7, len(answer.split()))


@dataclass
class WidgetResult:
    """What the pipeline produced: the widget, each step's status, and the error that failed it."""

    prompt: str
    steps: list[tuple[str, str]] = field(default_factory=list)  # (agent, "ok" | "failed: ...")
    widget: dict[str, Any] | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.widget is not None


async def run_pipeline(logger: Any, chat_id: str, prompt: str = "Starting dashboard conversation...",
                       llm: MockLlm | None = None) -> WidgetResult:
    """coordinator → sql agent → viz agent; each LLM call is logged with ``_log_llm``.

    As in the checkpoint, a failure in logging fails the widget: the cascade to watch.
    """
    from kit.arena import call_off_loop

    llm = llm or MockLlm()
    result = WidgetResult(prompt)
    outputs: dict[str, str] = {}
    for agent in ("coordinator_agent", "sql_agent", "viz_agent"):
        answer, usage = llm.complete(agent, prompt if agent == "coordinator_agent" else outputs[_previous(agent)])
        outputs[agent] = answer
        try:
            await call_off_loop(logger._log_llm, chat_id, usage)
        except Exception as exc:  # the pipeline's own behaviour: logging failure fails the widget
            result.steps.append((agent, f"failed: {type(exc).__name__}: {exc}"))
            result.error = exc
            return result
        result.steps.append((agent, "ok"))
    result.widget = {"type": "kpi", "title": "Total sales revenue", "sql": outputs["sql_agent"],
                     "visualisations": outputs["viz_agent"].split(", ")}
    return result


def _previous(agent: str) -> str:
    return {"sql_agent": "coordinator_agent", "viz_agent": "sql_agent"}[agent]

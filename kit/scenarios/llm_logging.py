"""Scenario ``llm_logging`` (seeds/000): ``await`` on a sync client fails ``_log_llm`` and the widget.

    s = kit.scenarios.llm_logging(kit.target("embedded"))
    s.setup()                         # chats (row chat-1), llm_usage
    s.pipeline("broken")              # coordinator ✓ → _log_llm ✗ → widget failed
    s.pipeline("async_client")        # all three steps logged, widget created
    s.checks()
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.arena import run_in_arena
from kit.checks import Check, Checks
from kit.scenarios import llm_logging_service as svc
from kit.scenarios.base import Scenario, apply_schema, label_of
from kit.scenarios.interface import Interface, Method

SCHEMA = Path(__file__).with_name("llm_schema.sql")
TABLES = ["chats", "llm_usage"]
FIXED = ("async_client", "to_thread", "sync")
CHAT_USER = "00000000-0000-4000-8000-000000000001"


@dataclass
class PipelineRun:
    """One pipeline run: its steps, the widget, and the usage rows it logged."""

    variant: str
    chat_id: str
    result: svc.WidgetResult
    usage_rows: list[dict[str, Any]]

    def __repr__(self) -> str:
        state = "widget created" if self.result.ok else f"widget FAILED ({type(self.result.error).__name__})"
        return f"<PipelineRun {self.variant}: {state}, {len(self.usage_rows)} usage rows>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        steps = "".join(f"<li>{'✅' if status == 'ok' else '❌'} <code>{html.escape(agent)}</code> "
                        f"{html.escape(status)}</li>" for agent, status in self.result.steps)
        widget = ("<p>✅ widget created: <code>" + html.escape(str(self.result.widget)) + "</code></p>"
                  if self.result.ok else "<p>❌ widget creation marked failed</p>")
        return {"text/plain": repr(self),
                "text/html": f"<p><b>{html.escape(self.variant)}</b>, chat <code>{html.escape(self.chat_id)}"
                             f"</code>, {len(self.usage_rows)} usage rows logged</p><ol>{steps}</ol>{widget}"}


class LlmLoggingScenario(Scenario):
    name = "llm_logging"
    title = "LLM usage logging: await on a sync client"
    seed = "000_dfcf6b7f0980c254.txt"
    notebook = "03_llm_logging.ipynb"
    implementations = svc.IMPLEMENTATIONS
    tables = tuple(TABLES)
    interface = Interface("llm_logging", "(supabase: Client | AsyncClient, queries: LoggingQueries = None)", (
        Method("_log_llm", "(self, chat_id: str, usage: Usage) -> None",
               "the pipeline completes; one usage row per LLM call with the chat's user id"),
    ))

    def service_options(self) -> dict[str, Any]:
        return {"queries": svc.LoggingQueries(self.names)}

    def schema_sql(self) -> str:
        return self.names.sql(SCHEMA.read_text())

    def setup(self) -> list[str]:
        apply_schema(self.target, self.schema_sql(), tables=[self.names.table(t) for t in TABLES],
                     functions=[], ledger=self.ledger)
        self._setup_done = True
        return [self.names.table(t) for t in TABLES]

    def pipeline(self, which: str | type = "broken", *, fault_profile: str = "none",
                 seed: int = 7) -> PipelineRun:
        """Run coordinator → sql agent → viz agent for a fresh chat, logging each LLM call."""
        import uuid

        from kit.scenarios.fault_profiles import fault_rules

        self.require_setup()
        chat_id = f"kit-chat-{uuid.uuid4().hex[:8]}"
        self.admin.table(self.names.table("chats")).insert(
            {"id": chat_id, "user_id": CHAT_USER, "title": "Starting dashboard conversation..."}).execute()
        make_service, close = self.service_factory(which, fault_rules(fault_profile, seed=seed))

        async def main() -> svc.WidgetResult:
            logger = make_service()
            try:
                return await svc.run_pipeline(logger, chat_id)
            finally:
                await close()

        result = run_in_arena(main, name=f"kit-arena-pipeline-{label_of(which)}")
        rows = self.admin.table(self.names.table("llm_usage")).select(
            "agent,user_id,model,prompt_tokens,completion_tokens").eq("chat_id", chat_id).order("id").execute().data
        return PipelineRun(label_of(which), chat_id, result, rows)

    def panel_choices(self) -> dict[str, Any]:
        choices = super().panel_choices()
        return {"implementation": choices["implementation"], "concurrency": (1, 1, 1),
                "fault_profile": choices["fault_profile"]}

    def panel_run(self, implementation: str, concurrency: int, fault_profile: str) -> PipelineRun:
        return self.pipeline(implementation, fault_profile=fault_profile)

    def checks(self, implementation: str | type | None = None) -> Checks:
        self.require_setup()
        checks = Checks(scenario=self.name)
        for which in ([implementation] if implementation else list(FIXED)):
            run = self.pipeline(which)
            label = label_of(which)
            checks.add(Check(f"{label}: the pipeline completes and the widget is created", run.result.ok,
                             "; ".join(f"{a}: {s}" for a, s in run.result.steps)))
            agents = [r["agent"] for r in run.usage_rows]
            owners = {r["user_id"] for r in run.usage_rows}
            checks.add(Check(f"{label}: one usage row per LLM call, with the chat's user id",
                             agents == ["coordinator_agent", "sql_agent", "viz_agent"] and owners == {CHAT_USER},
                             f"rows for {agents}, user ids {sorted(map(str, owners))}"))
        if implementation is None:
            broken = self.pipeline("broken")
            error = broken.result.error
            checks.add(Check("broken: _log_llm raises \"can't be used in 'await' expression\" and the "
                             "widget is marked failed",
                             isinstance(error, TypeError) and "can't be used in 'await' expression" in str(error)
                             and not broken.result.ok and not broken.usage_rows,
                             f"{type(error).__name__}: {error}; {len(broken.usage_rows)} rows",
                             expected_failure=True))
        return checks

"""Checkpoint 001's end-to-end run, as a signed-in user under RLS, broken and fixed side by side.

The run the checkpoint could not finish (seeds/001 "After refactor: register/login → create
conversation → POST memory/update → worker → GET memory"): a user registers and signs in with
the service's own supabase client (so its REST calls act as that user), creates a conversation
(RLS: only their own), posts a memory update through ``MemoryService``, the queue worker (a
backend with the service key) summarises it, and the user reads the memory back; a second
user reads nothing. Every step is attempted and reported, so the broken service shows where
it fails (``can't be used in 'await' expression``) next to the fixed ones.

    s = kit.scenarios.memory_queue(kit.target("embedded")); s.setup()
    runs = signed_in_side_by_side(s, ["broken", "to_thread", "async_client"])
    runs                                     # steps × variants, each cell ok or the error
    runs.checks()
"""

from __future__ import annotations

import asyncio
import html
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kit.arena import call_off_loop, run_in_arena
from kit.checks import Check, Checks
from kit.scenarios.base import construct, label_of, wants_async_client

MESSAGE = "Remember: I prefer bar charts."
STEPS = ("register", "sign in", "create conversation (RLS)", "POST memory update", "worker summarises",
         "GET memory as the user", "another user reads nothing")


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    ms: float


@dataclass
class SignedInRun:
    """One implementation's end-to-end run as a signed-in user."""

    variant: str
    steps: list[Step] = field(default_factory=list)
    memory: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return len(self.steps) == len(STEPS) and all(s.ok for s in self.steps)

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def __repr__(self) -> str:
        failed = [s.name for s in self.steps if not s.ok]
        return f"<SignedInRun {self.variant}: {'all steps ok' if not failed else 'failed at ' + failed[0]}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": SideBySide([self])._repr_mimebundle_()["text/html"]}


@dataclass
class SideBySide:
    """Several implementations' runs; displays as a steps × variants table."""

    runs: list[SignedInRun]

    def checks(self) -> Checks:
        checks = Checks(scenario="memory_queue")
        for run in self.runs:
            if run.variant == "broken":
                post = run.step("POST memory update")
                checks.add(Check("signed in, broken: POST memory update fails with \"can't be used in "
                                 "'await' expression\"", bool(post and "can't be used in 'await' expression"
                                                              in post.detail),
                                 post.detail if post else "not run", expected_failure=True))
            else:
                checks.add(Check(f"signed in, {run.variant}: register → sign in → conversation under RLS → "
                                 "update → worker → memory read back; another user reads nothing",
                                 run.ok, "; ".join(f"{s.name}: {s.detail}" for s in run.steps if not s.ok)
                                 or str(run.memory)[:200]))
        return checks

    def __repr__(self) -> str:
        return "<SideBySide " + ", ".join(f"{r.variant} {'ok' if r.ok else 'failed'}" for r in self.runs) + ">"

    def __str__(self) -> str:
        width = max(len(s) for s in STEPS)
        lines = [f"{'step':<{width}}  " + "  ".join(f"{r.variant:<14}" for r in self.runs)]
        for name in STEPS:
            cells = [_plain_cell(r.step(name))[:14] for r in self.runs]
            lines.append(f"{name:<{width}}  " + "  ".join(f"{c:<14}" for c in cells))
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        head = "".join(f"<th>{html.escape(r.variant)}</th>" for r in self.runs)
        rows = []
        for name in STEPS:
            cells = []
            for run in self.runs:
                step = run.step(name)
                if step is None:
                    cells.append("<td>-</td>")
                elif step.ok:
                    cells.append(f"<td>✅ {html.escape(step.detail[:80])}</td>")
                else:
                    cells.append(f"<td>❌ <code>{html.escape(step.detail[:200])}</code></td>")
            rows.append(f"<tr><th>{html.escape(name)}</th>{''.join(cells)}</tr>")
        return {"text/plain": repr(self),
                "text/html": f"<table><tr><th>step</th>{head}</tr>{''.join(rows)}</table>"}


def _plain_cell(step: Step | None) -> str:
    return "-" if step is None else "ok" if step.ok else step.detail


async def _attempt(run: SignedInRun, name: str, action: Callable[[], Any]) -> Any:
    """Run one step, record ok/error; the error does not stop the next steps."""
    started = time.perf_counter()
    try:
        result = await action()
    except Exception as exc:  # noqa: BLE001 - each step's failure is the finding, shown in the table
        run.steps.append(Step(name, False, f"{type(exc).__name__}: {exc}"[:300],
                              (time.perf_counter() - started) * 1000))
        return None
    run.steps.append(Step(name, True, _summary(result), (time.perf_counter() - started) * 1000))
    return result


def _summary(result: Any) -> str:
    if isinstance(getattr(result, "data", None), list):  # an APIResponse
        return f"{len(result.data)} row(s)"
    if isinstance(result, dict):
        return ", ".join(f"{k}={str(v)[:40]}" for k, v in result.items())
    return "" if result is None else str(result)[:80]


def signed_in_end_to_end(scenario: Any, which: str | type = "to_thread", *,
                         password: str = "kit-e2e-password-1") -> SignedInRun:
    """Checkpoint 001's E2E for one implementation, as a freshly registered user."""
    from kit.clients import clients as make_clients

    scenario.require_setup()
    cls = scenario.implementation(which)
    run = SignedInRun(label_of(which))
    names = scenario.names
    admin = scenario.admin.auth.admin
    created: list[str] = []

    async def main() -> SignedInRun:
        if not scenario.target.anon_key:
            run.steps.append(Step("register", False, "the target has no anon key: users sign up with it "
                                  "(set the variable named by anon_key_env)", 0.0))
            return run
        user_clients = make_clients(scenario.target, capture=scenario.capture, role="anon")
        client = user_clients.async_ if wants_async_client(cls) else user_clients.sync

        async def call(fn: Callable[[], Any]) -> Any:
            return await fn() if wants_async_client(cls) else await asyncio.to_thread(fn)

        email = f"kit-e2e-{uuid.uuid4().hex[:10]}@example.com"
        chat_id = f"kit-e2e-{uuid.uuid4().hex[:8]}"
        try:
            user = await _attempt(run, "register",
                                  lambda: _register(call, client, admin, email, password, created))
            await _attempt(run, "sign in", lambda: _sign_in(call, client, email, password))
            await _attempt(run, "create conversation (RLS)", lambda: call(
                lambda: client.table(names.table("conversations")).insert(
                    {"id": chat_id, "user_id": user, "metadata": {"source": "kit e2e"}}).execute()))
            service = construct(cls, user_clients, **scenario.service_options())
            item = await _attempt(run, "POST memory update", lambda: call_off_loop(
                service.request_update, chat_id, [{"role": "user", "content": MESSAGE}]))
            await _attempt(run, "worker summarises", lambda: _work(scenario, which, chat_id, item))
            run.memory = await _attempt(run, "GET memory as the user",
                                        lambda: _memory_of(call_off_loop(service.get_memory, chat_id)))
            await _attempt(run, "another user reads nothing",
                           lambda: _intruder_reads(scenario, admin, chat_id, password, created))
            await call(lambda: client.auth.sign_out({"scope": "local"}))
        finally:
            user_clients.close()
            await user_clients.aclose()
        return run

    try:
        return run_in_arena(main, name=f"kit-arena-e2e-auth-{label_of(which)}")
    finally:
        if not scenario.target.is_embedded:  # remove the users the kit created, nothing else
            for user_id in created:
                admin.delete_user(user_id)


async def _register(call: Callable[..., Any], client: Any, admin: Any, email: str, password: str,
                    created: list[str]) -> str:
    """Sign up; on a project with confirmations on, the admin confirms the address (no inbox here)."""
    answer = await call(lambda: client.auth.sign_up({"email": email, "password": password}))
    created.append(answer.user.id)
    if answer.session is None:
        await asyncio.to_thread(admin.update_user_by_id, answer.user.id, {"email_confirm": True})
    await call(lambda: client.auth.sign_out({"scope": "local"}))
    return str(answer.user.id)


async def _sign_in(call: Callable[..., Any], client: Any, email: str, password: str) -> dict[str, Any]:
    answer = await call(lambda: client.auth.sign_in_with_password({"email": email, "password": password}))
    return {"user": answer.user.email, "role": answer.user.role}


async def _work(scenario: Any, which: str | type, chat_id: str, item: int | None) -> dict[str, Any]:
    """The queue worker, a backend with the service key, running the same implementation."""
    make_service, close = scenario.service_factory(which, None)
    worker_service = make_service()
    try:
        if item is None:  # nothing was queued: show what the worker itself does
            await call_off_loop(worker_service.claim, "e2e-auth-worker", 1, 30, chat_id)
            return {"processed": 0}
        stats = await scenario.work_until_processed(worker_service, item, chat_prefix=chat_id,
                                                    worker="e2e-auth-worker")
        if item not in stats.processed:
            raise RuntimeError("; ".join(stats.errors) or f"item {item} was not processed")
        return {"processed": len(stats.processed)}
    finally:
        await close()


async def _memory_of(pending: Any) -> dict[str, Any]:
    memory = await pending
    if not memory or "bar charts" not in str(memory.get("summary", "")):
        raise LookupError(f"no summary visible to the user: {memory!r}")
    return {"summary": memory["summary"], "version": memory["version"]}


async def _intruder_reads(scenario: Any, admin: Any, chat_id: str, password: str, created: list[str]) -> str:
    from supabase import ClientOptions, create_client

    def read() -> list[Any]:
        intruder = create_client(scenario.target.url, scenario.target.anon_key,
                                 ClientOptions(auto_refresh_token=False))
        email = f"kit-e2e-intruder-{uuid.uuid4().hex[:8]}@example.com"
        made = admin.create_user({"email": email, "password": password, "email_confirm": True})
        created.append(made.user.id)
        intruder.auth.sign_in_with_password({"email": email, "password": password})  # type: ignore[arg-type]
        memory = intruder.table(scenario.names.table("chat_metadata"))
        return list(memory.select("*").eq("chat_id", chat_id).execute().data)

    rows = await asyncio.to_thread(read)
    if rows:
        raise PermissionError(f"another user read {len(rows)} rows of this conversation's memory")
    return "0 rows"


def signed_in_side_by_side(scenario: Any,
                           variants: Sequence[str | type] = ("broken", "to_thread", "async_client"),
                           ) -> SideBySide:
    """:func:`signed_in_end_to_end` for each variant, in order."""
    return SideBySide([signed_in_end_to_end(scenario, which) for which in variants])

"""Corpus cases of event-loop stalls (caught by kit.watch_loop on the corpus's own loop) and of
failures explained from the exception alone, with no capture (the user's own client)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from explain_corpus import CorpusEnv, case, raised
from supabase import create_client
from thread_start_hold import hold_thread_start

import kit


def _says(*parts: str, never: tuple[str, ...] = ()) -> Any:
    def check(why: Any) -> None:
        text = " ".join((why.title, why.cause, *why.evidence.lines,
                         why.fix.before + why.fix.after + why.fix.note if why.fix else ""))
        assert all(p in text for p in parts) and not any(n in text for n in never), text
    return check


async def _thread_start(submit: Any) -> list[Any]:
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
    async with kit.watch_loop(threshold_ms=20) as watch:
        hold_thread_start(threading.get_ident(), ms=60)
        await submit()
    return [watch]


@case("loop_thread_start_to_thread", "thread_start_on_loop", "stalls",
      _says("asyncio.to_thread", never=("sync supabase call",)))
async def _(env: CorpusEnv) -> list[Any]:
    return await _thread_start(lambda: asyncio.to_thread(time.sleep, 0))


@case("loop_thread_start_run_in_executor", "thread_start_on_loop", "stalls",
      _says("loop.run_in_executor", never=("sync supabase call",)))
async def _(env: CorpusEnv) -> list[Any]:
    return await _thread_start(lambda: asyncio.get_running_loop().run_in_executor(None, time.sleep, 0))


@case("loop_sync_select_on_the_loop", "event_loop_blocked", "stalls",
      _says("A sync supabase call", "await asyncio.to_thread("))
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[{"match": {"table": env.t("notes")}, "effect": {"latency": 0.06}}])
    async with kit.watch_loop(threshold_ms=20) as watch:
        c.sync.table(env.t("notes")).select("*").execute()
    return [watch]


def _sleepy_helper() -> None:
    time.sleep(0.06)


@case("loop_user_sleep_on_the_loop", "event_loop_blocked", "stalls",
      _says("No supabase SDK frame was sampled", "await asyncio.to_thread(_sleepy_helper)"))
async def _(env: CorpusEnv) -> list[Any]:
    async with kit.watch_loop(threshold_ms=20) as watch:
        _sleepy_helper()
    return [watch]


@case("rls_insert_refused_anon_own_client", "sqlstate:42501", "schema",
      _says("role 'anon' may not INSERT", "for insert to anon", never=("authenticated can",)))
async def _(env: CorpusEnv) -> list[Any]:
    client = create_client(env.stack.url, env.stack.anon_key)
    return [await raised(lambda: client.table(env.t("secret")).insert({"id": 9, "body": "z"}).execute())]


@case("wrong_key_of_another_stack_own_client", "api_key_problem", "auth",
      _says("apikey sent: a JWT, role 'anon', iss 'kit'", "of the stack at http://127.0.0.1:",
            never=("kit.target",)))
async def _(env: CorpusEnv) -> list[Any]:
    import jwt

    other = jwt.encode({"role": "anon", "iss": "kit", "iat": 1_700_000_000},
                       "another stack's secret, long enough to sign", algorithm="HS256")
    client = create_client(env.stack.url, other)
    return [await raised(lambda: client.table(env.t("notes")).select("*").execute())]

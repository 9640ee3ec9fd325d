"""A labelled corpus of real failures for ``kit.explain``: each case makes a Supabase app fail
for real, through the real supabase-py sync or async client, against the embedded stack, the
broken edge test server (``edge_server``) or a fault rule, and names the explanation it expects.

    env = await CorpusEnv.build(stack, edge_url)
    results = await run_corpus(env)          # {case id: (case, Explanation)}

Used by tests/test_explain_corpus.py (asserts every label) and bench/explain.py (accuracy,
confident-wrong answers, honest unknowns). Nothing here is hand-written: an exception is what a
client raised, a capture is what it sent and got, a log text is what a real process printed.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

import kit
from kit.targets import Target

Produce = Callable[["CorpusEnv"], Awaitable[list[Any]]]


@dataclass(frozen=True)
class CorpusCase:
    id: str
    label: str  # the explanation id kit.explain must give
    kind: str  # async misuse · results · schema · transport · edge · storage · auth · stalls · unknown
    produce: Produce
    check: Callable[[Any], None] | None = None  # extra assertions on the explanation
    background: bool = False  # slow and self-contained (a subprocess): runs beside the others


CASES: list[CorpusCase] = []


def case(id: str, label: str, kind: str, check: Callable[[Any], None] | None = None, *,
         background: bool = False) -> Callable[[Produce], Produce]:
    def add(fn: Produce) -> Produce:
        CASES.append(CorpusCase(id, label, kind, fn, check, background))
        return fn
    return add


@dataclass
class CorpusEnv:
    """One stack, one edge server, shared recording clients and the tables the cases use."""

    stack: Target
    edge_url: str
    u: str  # unique suffix of this run's tables and buckets
    db: psycopg.Connection[Any]
    service: kit.Clients
    anon: kit.Clients
    extra: list[kit.Clients] = field(default_factory=list)

    def t(self, name: str) -> str:
        return f"xc_{name}_{self.u}"

    def clients(self, *, faults: Any = None, target: Target | None = None, **options: Any) -> kit.Clients:
        c = kit.clients(target or self.stack, faults=faults, retry=False, **options)
        self.extra.append(c)
        return c

    def edge(self) -> kit.Clients:
        return self.clients(target=Target("remote", self.edge_url, _fake_anon_key()))

    @classmethod
    async def build(cls, stack: Target, edge_url: str) -> CorpusEnv:
        db = psycopg.connect(stack.database_url or "", autocommit=True)
        env = cls(stack, edge_url, uuid.uuid4().hex[:8], db, kit.clients(stack, retry=False),
                  kit.clients(stack, role="anon", retry=False))
        t = env.t
        for statement in (
            f"create table public.{t('notes')} (id int primary key, body text, owner text)",
            f"insert into public.{t('notes')} values (1, 'a', 'u1'), (2, 'b', 'u1')",
            f"create table public.{t('child')} (id int primary key, "
            f"note_id int not null references public.{t('notes')}(id))",
            f"create table public.{t('secret')} (id int primary key, body text)",
            f"insert into public.{t('secret')} values (1, 'hidden')",
            f"alter table public.{t('secret')} enable row level security",
            f"create table public.{t('locked')} (id int primary key)",
            f"revoke all on public.{t('locked')} from anon, authenticated, service_role",
            f"create table public.{t('loop')} (id int primary key, owner text)",
            f"alter table public.{t('loop')} enable row level security",
            f"create policy loop_read on public.{t('loop')} for select to anon using "
            f"(exists (select 1 from public.{t('loop')} l where l.id = id))",
            f"create function public.{t('refuse')}() returns int language plpgsql as "
            "$$ begin raise exception 'quota exceeded for this account'; end $$",
            f"create function public.{t('lost')}() returns bigint language plpgsql as "
            f"$$ begin return (select count(*) from public.{t('gone')}); end $$",
            f"create function public.{t('cancel')}() returns int language plpgsql security definer "
            "as $$ begin perform pg_cancel_backend(pg_backend_pid()); perform pg_sleep(2); "
            "return 1; end $$",
            f"create function public.{t('slow')}() returns int language sql as "
            "$$ select 1 from pg_sleep(0.4) $$",
            "notify pgrst, 'reload schema'",
        ):
            db.execute(statement)
        env.service.sync.storage.create_bucket(t("files"))
        env.service.sync.storage.from_(t("files")).upload("taken.txt", b"first")
        await asyncio.sleep(0.3)  # the stack reloads its schema cache
        return env

    async def close(self) -> None:
        for c in (self.service, self.anon, *self.extra):
            c.close()
            await c.aclose()
        self.db.close()


def _fake_anon_key() -> str:
    # not a real key: the edge server never checks it (joined at runtime: no JWT-shaped literal)
    return ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoiYW5vbiJ9", "ZmFrZQ"])


async def raised(call: Callable[[], Any]) -> BaseException:
    """The exception ``call()`` (awaited when it gives an awaitable) raised; fails if none."""
    try:
        value = call()
        if inspect.isawaitable(value):
            await value
    except Exception as exc:  # noqa: BLE001 - the failure is the subject
        return exc
    raise AssertionError("the call did not fail")


def since(c: kit.Clients, mark: int) -> list[Any]:
    return list(c.capture)[mark:]


async def failure(c: kit.Clients, call: Callable[[kit.Clients], Any]) -> list[Any]:
    """Run ``call(c)``; the exception it raised and the exchanges it made, as a user passes them."""
    mark = len(c.capture)
    exc = await raised(lambda: call(c))
    return [exc, *since(c, mark)]


async def run_corpus(env: CorpusEnv, cases: list[CorpusCase] | None = None) -> dict[str, tuple[CorpusCase, Any]]:
    """Produce every case's failure and explain it: ``{id: (case, explanation)}``."""
    import explain_corpus_cases  # noqa: F401  (registers the cases)

    chosen = cases or CASES
    background = {item.id: asyncio.ensure_future(_produce(item, env))
                  for item in chosen if item.background}
    results: dict[str, tuple[CorpusCase, Any]] = {}
    for item in chosen:
        produced = await (background[item.id] if item.background else _produce(item, env))
        results[item.id] = (item, produced if isinstance(produced, CorpusError)
                            else kit.explain(*produced))
    return results


async def _produce(item: CorpusCase, env: CorpusEnv) -> list[Any] | CorpusError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # never-awaited coroutines are the subject
        try:
            return await item.produce(env)
        except Exception as exc:  # noqa: BLE001 - a case that could not produce its failure
            return CorpusError(f"{type(exc).__name__}: {exc}")


class CorpusError(Exception):
    """A case that did not produce the failure it is about (the test reports it)."""


def errno24_script(url: str, table: str, asynchronous: bool) -> str:
    """A program that makes a new client per request (and never closes them) under a low
    RLIMIT_NOFILE until the process runs out of file descriptors; it prints the traceback."""
    one = ("    client = await acreate_client(url, key)\n"
           "    await client.table(table).select('*').execute()\n" if asynchronous else
           "    client = create_client(url, key)\n"
           "    client.table(table).select('*').execute()\n")
    return (
        "import asyncio, os, resource, traceback\n"
        "from supabase import acreate_client, create_client\n"
        f"url, key, table = {url!r}, os.environ['KIT_CORPUS_KEY'], {table!r}\n"
        "kept = []\n"
        f"{'async ' if asynchronous else ''}def per_request():\n{one}    kept.append(client)\n"
        "async def main():\n"
        "    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "    resource.setrlimit(resource.RLIMIT_NOFILE, (32, hard))\n"
        "    for _ in range(400):\n"
        f"        {'await ' if asynchronous else ''}per_request()\n"
        "try:\n    asyncio.run(main())\n"
        "except Exception as exc:\n    print(''.join(traceback.format_exception(exc))[-4000:])\n")


async def run_script(source: str, key: str) -> str:
    """Run a Python program (the key goes in through the environment) and return its output."""
    import os

    process = await asyncio.create_subprocess_exec(sys.executable, "-c", source,
                                                   env={**os.environ, "KIT_CORPUS_KEY": key},
                                                   stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    return out.decode("utf-8", "replace")

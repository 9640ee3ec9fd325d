"""The diff engine: one operation, every mode, each in its own arena, side by side.

    report = kit.diff(lambda c: c.table("chats").select("*").eq("id", 1).single().execute(),
                      target=kit.stack.start())
    report = await kit.adiff(op, target=target, modes="sync,blocking,to_thread", concurrency=8)

    # a user's own async service method, broken and fixed (rows are the names given):
    report = kit.diff(service_factory={"broken": lambda clients: BrokenAdService(clients.sync),
                                       "fixed": lambda clients: FixedAdService(clients.sync)},
                      call=lambda service: service.download_image("reference-ads/a.png"),
                      target=target)

Every row gets fresh clients (``kit.clients(target, capture=shared)``) built inside its own
thread, so an AsyncClient is never reused across event loops; all exchanges land in one
Capture, labelled with the row's name. Rows run one after another, never overlapping.

Operations that write are safe to diff (``kit.diff.writes``): every REST request asks for
``Prefer: tx=rollback``, storage uploads go under per-mode ``kit_`` names removed after each
row, and on a local or remote target a write to anything not named ``kit_`` is refused
(``WritesRefused``, raised from ``diff``) unless ``allow_writes=True``.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from kit.arena import run_in_arena, run_in_plain_thread
from kit.diff.report import CallOutcome, DiffReport, RowRun
from kit.errors import UsageError
from kit.loop.monitor import LoopMonitor
from kit.modes import Mode, Operation, UnawaitedCoroutine, resolve_modes

ServiceFactory = Callable[[Any], Any]  # Clients -> service object


@dataclass(frozen=True)
class Row:
    """What one row runs: a mode applied to ``op``, or a service variant."""

    name: str
    on_loop: bool
    verdict: str
    how: str
    invoke: Callable[[Any], Any]  # Clients -> value | coroutine


def diff(op: Operation | None = None, target: Any = None, *, modes: Any = None,
         concurrency: int = 1, clients: Any = None, faults: Any = None, role: str | None = None,
         service_factory: ServiceFactory | Mapping[str, ServiceFactory] | None = None,
         call: Callable[[Any], Any] | None = None, baseline: str | None = None,
         threshold_ms: float = 20.0, interval_ms: float = 5.0, await_guard: bool = False,
         timeout: float = 120.0, retry: bool = True, allow_writes: bool = False,
         storage_names: str = "rename") -> DiffReport:
    """Run ``op`` in each mode (default: all six) and compare: ``kit.diff(op, target=t)``.

    ``concurrency=N`` runs N copies at once beside the heartbeat; ``service_factory`` +
    ``call`` runs a user's own (async) service method instead of ``op``; ``clients=`` reuses
    the target, role and Capture of an existing ``kit.clients(...)``; ``allow_writes`` lets
    it write to a local or remote project's own (non-``kit_``) tables and buckets;
    ``storage_names="upsert"`` keeps an upload's own name (see ``kit.diff.writes``).
    Raises UsageError for bad arguments and WritesRefused before a refused write is sent.
    """
    rows = plan_rows(op, modes=modes, service_factory=service_factory, call=call)
    if not isinstance(concurrency, int) or concurrency < 1:
        raise UsageError(f"concurrency={concurrency!r} is not a positive integer",
                         fix="pass concurrency=1 (default) or e.g. concurrency=8")
    names = [r.name for r in rows]
    if baseline is not None and baseline not in names:
        raise UsageError(f"baseline {baseline!r} is not one of the rows {names}",
                         fix=f"use one of: {', '.join(names)}")
    from kit.diff.writes import WritePolicy

    build = _client_builder(target, clients, faults=faults, role=role, timeout=timeout, retry=retry)
    policy = WritePolicy(build.target, allow_writes=allow_writes, storage_names=storage_names)
    build.options["policy"] = policy
    warm_up_imports()
    capture = build.capture
    runs: list[RowRun] = []
    removed: dict[str, list[str]] = {}
    with ExitStack() as stack:
        if await_guard:
            from kit.loop.guard import AwaitGuard
            stack.enter_context(AwaitGuard())
        for row in rows:
            gc.collect()  # the previous row's clients are finalised now, not as a stall of this one
            if row.on_loop:
                runs.append(run_in_arena(lambda row=row: _run_on_loop(  # type: ignore[misc]
                    row, build, concurrency, threshold_ms, interval_ms), name=f"kit-arena-{row.name}"))
            else:
                runs.append(run_in_plain_thread(lambda row=row: _run_plain(  # type: ignore[misc]
                    row, build, concurrency), name=f"kit-plain-{row.name}"))
            removed[row.name] = policy.remove_created(row.name)
            if policy.refused is not None:
                raise policy.refused
    return DiffReport(runs, capture=capture, baseline=baseline or names[0],
                      concurrency=concurrency, threshold_ms=threshold_ms, interval_ms=interval_ms,
                      policy=policy, removed=removed)


async def adiff(op: Operation | None = None, target: Any = None, **options: Any) -> DiffReport:
    """``await kit.adiff(op, target=t)``: the same as ``diff``, without blocking the caller's loop."""
    return await asyncio.to_thread(diff, op, target, **options)


# Modules the async HTTP stack imports on its first request (anyio's asyncio backend alone
# takes ~150 ms): imported once up front so that cost is not measured as a loop stall.
FIRST_USE_MODULES = ("anyio._backends._asyncio", "httpcore._backends.anyio", "sniffio")


def warm_up_imports() -> None:
    """Import what the first async request would import, once per process."""
    import importlib
    for name in FIRST_USE_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def plan_rows(op: Operation | None, *, modes: Any = None,
              service_factory: ServiceFactory | Mapping[str, ServiceFactory] | None = None,
              call: Callable[[Any], Any] | None = None) -> list[Row]:
    """The rows a diff will run (validates the arguments)."""
    if service_factory is not None or call is not None:
        if op is not None:
            raise UsageError("give either an operation or service_factory + call, not both",
                             fix="kit.diff(op, ...) or kit.diff(service_factory=..., call=...)")
        if service_factory is None or call is None or not callable(call):
            raise UsageError("service_factory and call go together",
                             fix="kit.diff(service_factory=lambda clients: Service(clients.sync), "
                                 "call=lambda s: s.download_image(path))")
        if modes is not None:
            raise UsageError("modes do not apply to a service call (the service decides how it "
                             "calls Supabase)", fix="pass several factories as a dict instead: "
                                                    "service_factory={'broken': ..., 'fixed': ...}")
        factories = (dict(service_factory) if isinstance(service_factory, Mapping)
                     else {"service": service_factory})
        if not factories or not all(callable(f) for f in factories.values()):
            raise UsageError("service_factory must be a callable or a non-empty dict of callables",
                             fix="service_factory=lambda clients: Service(clients.sync)")
        return [Row(name, True, "variant", "service method awaited on the loop",
                    _service_invoker(factory, call)) for name, factory in factories.items()]
    if op is None or not callable(op):
        raise UsageError(f"the operation must be a callable taking a client, got {op!r}",
                         fix='kit.diff(lambda c: c.table("chats").select("*").execute(), target=t)')
    return [_mode_row(mode, op) for mode in resolve_modes(modes)]


def _mode_row(mode: Mode, op: Operation) -> Row:
    def invoke(clients: Any) -> Any:
        return mode.run(op, clients.sync if mode.client == "sync" else clients.async_)
    return Row(mode.name, mode.on_loop, mode.verdict, mode.how, invoke)


def _service_invoker(factory: ServiceFactory, call: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def invoke(clients: Any) -> Any:
        return _await_if_needed(call(factory(clients)))
    return invoke


async def _await_if_needed(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class _ClientBuilder:
    def __init__(self, target: Any, capture: Any, options: dict[str, Any]) -> None:
        self.target = target
        self.capture = capture
        self.options = options

    def make(self) -> Any:
        from kit.clients import clients as make_clients

        return make_clients(self.target, capture=self.capture, **self.options)


def _client_builder(target: Any, existing: Any, **options: Any) -> _ClientBuilder:
    from kit.capture import Capture

    if existing is not None:
        if target is not None and target is not existing.target:
            raise UsageError("both target= and clients= were given, for different targets",
                             fix="pass one of them")
        target, capture = existing.target, existing.capture
        options["role"] = options.get("role") or existing.role
    else:
        if target is None:
            raise UsageError("kit.diff needs a target", fix="pass target=kit.stack.start() (the "
                                                            "embedded stack) or clients=kit.clients(...)")
        capture = Capture()
    return _ClientBuilder(target, capture, options)


def _run_plain(row: Row, build: _ClientBuilder, concurrency: int) -> RowRun:
    from kit.capture import capture_mode

    clients = build.make()
    started_wall, started = time.time(), time.perf_counter()

    def one(_: int) -> CallOutcome:
        with capture_mode(row.name):
            t0 = time.perf_counter()
            try:
                value = row.invoke(clients)
            except Exception as exc:  # noqa: BLE001 - the exception IS the outcome
                return CallOutcome("raised", None, exc, t0, time.perf_counter())
            return _outcome(value, t0)

    try:
        if concurrency == 1:
            outcomes = [one(0)]
        else:
            with ThreadPoolExecutor(concurrency, thread_name_prefix=f"kit-{row.name}") as pool:
                outcomes = list(pool.map(one, range(concurrency)))
    finally:
        clients.close()
    return RowRun(row.name, row.verdict, row.how, outcomes, started_wall, started,
                  time.perf_counter(), None)


async def _run_on_loop(row: Row, build: _ClientBuilder, concurrency: int,
                       threshold_ms: float, interval_ms: float) -> RowRun:
    from kit.capture import capture_mode

    loop = asyncio.get_running_loop()
    clients = build.make()
    try:
        with capture_mode(row.name):
            monitor = LoopMonitor(loop, threshold_ms=threshold_ms, interval_ms=interval_ms).start()
            await asyncio.sleep(interval_ms / 1000.0)  # a first beat before the calls
            started_wall, started = time.time(), time.perf_counter()
            outcomes = await asyncio.gather(*(_one_on_loop(row, clients)
                                              for _ in range(concurrency)))
            ended = time.perf_counter()
            await asyncio.sleep(interval_ms / 1000.0)  # a beat after, to close the last stall
            report = monitor.stop()
    finally:
        await clients.aclose()
        clients.close()
    return RowRun(row.name, row.verdict, row.how, list(outcomes), started_wall, started, ended,
                  report)


async def _one_on_loop(row: Row, clients: Any) -> CallOutcome:
    t0 = time.perf_counter()
    try:
        value = await row.invoke(clients)
    except Exception as exc:  # noqa: BLE001 - the exception IS the outcome
        return CallOutcome("raised", None, exc, t0, time.perf_counter())
    return _outcome(value, t0)


def _outcome(value: Any, t0: float) -> CallOutcome:
    if isinstance(value, UnawaitedCoroutine):
        return CallOutcome("coroutine", value, None, t0, time.perf_counter())
    return CallOutcome("value", value, None, t0, time.perf_counter())

"""What every scenario shares: names that are safe on a user's project, a ledger of what the
kit created (so it removes only that), schema application, and loading a user's implementation.

On the embedded stack a scenario uses the checkpoint's own names (``chats``,
``reference-ads``). On a local or remote project every table, bucket and object it
creates is named with a ``kit_`` prefix, and ``cleanup()`` removes exactly those.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import TargetError, UsageError
from kit.targets import Target

ASSETS = Path(__file__).with_name("assets")


@dataclass(frozen=True)
class Names:
    """Checkpoint names on the embedded stack, ``kit_``-prefixed everywhere else."""

    prefix: str = ""

    @classmethod
    def for_target(cls, target: Target) -> Names:
        return cls("" if target.is_embedded else "kit_")

    def table(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def bucket(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def function(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def sql(self, template: str) -> str:
        """Replace ``{t:name}`` / ``{f:name}`` in SQL with the prefixed, quoted table / function name
        (``{n:name}``: the bare prefixed table name, for catalog lookups)."""
        text = re.sub(r"\{t:([a-z_]+)\}", lambda m: f'public."{self.table(m.group(1))}"', template)
        text = re.sub(r"\{n:([a-z_]+)\}", lambda m: self.table(m.group(1)), text)
        return re.sub(r"\{f:([a-z_]+)\}", lambda m: f'"{self.function(m.group(1))}"', text)


@dataclass
class Ledger:
    """Everything a scenario created on a target, in creation order."""

    tables: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    objects: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tables or self.functions or self.buckets or self.objects)

    def to_dict(self) -> dict[str, list[Any]]:
        return {"tables": list(self.tables), "functions": list(self.functions),
                "buckets": list(self.buckets), "objects": [list(o) for o in self.objects]}

    @classmethod
    def from_dict(cls, data: dict[str, list[Any]]) -> Ledger:
        return cls(list(data.get("tables", [])), list(data.get("functions", [])),
                   list(data.get("buckets", [])), [(b, p) for b, p in data.get("objects", [])])

    def clear(self) -> None:
        for part in (self.tables, self.functions, self.buckets, self.objects):
            part.clear()


# A report run (``kit report`` on a local or remote target) names a file in this variable: its
# kernels hand what they created over to it, and the runner removes it all once every notebook
# has finished, so a kernel that ends never drops a table a notebook running beside it still uses.
HANDOVER_ENV = "KIT_CREATED_LEDGER"


def existing_tables(database_url: str, names: list[str]) -> set[str]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                            "table_schema = 'public' AND table_name = ANY(%s)", (names,)).fetchall()
    return {r[0] for r in rows}


def apply_schema(target: Target, sql_text: str, *, tables: list[str], functions: list[str],
                 ledger: Ledger) -> None:
    """Apply a scenario's idempotent schema SQL; record tables and functions that did not exist."""
    if not target.database_url:
        raise TargetError(
            f"the scenario needs to create tables ({', '.join(tables)}) but the {target.kind} target "
            "has no database URL",
            fix="set the database URL env var named by the notebook's db_url_env parameter (the "
                "kit creates only kit_-prefixed tables there), or create the tables yourself with "
                "the SQL shown by scenario.schema_sql()")
    import psycopg

    before = existing_tables(target.database_url, tables)
    with psycopg.connect(target.database_url, autocommit=True) as conn, conn.transaction():
        before_functions = {r[0] for r in conn.execute(
            "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
            "AND proname = ANY(%s)", (functions,)).fetchall()}
        conn.execute(sql_text)
        conn.execute("NOTIFY pgrst, 'reload schema'")  # a real PostgREST reloads its cache
    ledger.tables += [t for t in tables if t not in before]
    ledger.functions += [f for f in functions if f not in before_functions]


def remove_created(target: Target, ledger: Ledger, storage: Any = None) -> list[str]:
    """Remove what ``ledger`` says the kit created on ``target``: objects, then buckets, then
    functions and tables; returns what was removed (``["object kit_b/a.png", "table kit_chats"]``).
    ``storage`` is a sync storage client (one is built when objects or buckets need it)."""
    removed: list[str] = []
    if ledger.objects or ledger.buckets:
        own = None
        if storage is None:
            from kit.clients import clients

            own = clients(target)
            storage = own.sync.storage
        try:
            by_bucket: dict[str, set[str]] = {}
            for bucket, path in ledger.objects:
                by_bucket.setdefault(bucket, set()).add(path)
            for bucket, paths in by_bucket.items():
                storage.from_(bucket).remove(sorted(paths))
                removed += [f"object {bucket}/{p}" for p in sorted(paths)]
            for bucket in reversed(ledger.buckets):
                storage.delete_bucket(bucket)  # refuses if someone else put objects there
                removed.append(f"bucket {bucket}")
        finally:
            if own is not None:
                own.close()
        ledger.objects.clear()
        ledger.buckets.clear()
    return removed + drop_created(target, ledger)


def hand_over(ledger: Ledger, path: str) -> list[str]:
    """Append ``ledger`` to the report run's hand-over file (one JSON line) and clear it."""
    import json

    if not ledger:
        return []
    said = ([f"table {t}" for t in ledger.tables] + [f"function {f}" for f in ledger.functions]
            + [f"bucket {b}" for b in ledger.buckets] + [f"object {b}/{p}" for b, p in ledger.objects])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(ledger.to_dict()) + "\n")
    ledger.clear()
    return [f"{what} (removed when the report run ends)" for what in said]


def remove_handed_over(target: Target, path: str | Path) -> list[str]:
    """What the kernels of a report run handed over (``hand_over``), removed; newest first."""
    import json

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    removed: list[str] = []
    for line in reversed([line for line in lines if line.strip()]):
        removed += remove_created(target, Ledger.from_dict(json.loads(line)))
    return removed


_LIVE: list[Scenario] = []  # scenarios on a user's project, cleaned up when the process exits


def _cleanup_at_exit() -> None:
    import sys

    for scenario in _LIVE:
        if scenario.ledger:
            try:
                scenario.cleanup()
            except Exception as exc:  # noqa: BLE001 - at exit: say what is left, never raise
                print(f"kit: could not remove what the {scenario.name} scenario created on "
                      f"{scenario.target.url}: {type(exc).__name__}: {exc}", file=sys.stderr)


def drop_created(target: Target, ledger: Ledger) -> list[str]:
    """Drop only the tables and functions the ledger says the kit created."""
    if not target.database_url or not (ledger.tables or ledger.functions):
        return []
    import psycopg
    from psycopg import sql

    removed: list[str] = []
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        for fn in reversed(ledger.functions):
            assert fn.startswith("kit_") or target.is_embedded
            conn.execute(sql.SQL("DROP FUNCTION IF EXISTS public.{}").format(sql.Identifier(fn)))
            removed.append(f"function {fn}")
        for table in reversed(ledger.tables):
            assert table.startswith("kit_") or target.is_embedded
            conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{}").format(sql.Identifier(table)))
            removed.append(f"table {table}")
    ledger.tables.clear()
    ledger.functions.clear()
    return removed


def load_implementation(spec: str | type) -> type:
    """``"myapp.services.ad_creation_service:AdCreationService"`` → the class."""
    if isinstance(spec, type):
        return spec
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UsageError(f"implementation {spec!r} is not of the form 'package.module:ClassName'",
                         fix="pass e.g. implementation='myapp.services.ad_creation_service:AdCreationService'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name!r} for implementation {spec!r}: {exc}",
                         fix="run the notebook from your project's folder or add it to PYTHONPATH") from exc
    try:
        found = getattr(module, attr)
    except AttributeError as exc:
        public = ", ".join(n for n in dir(module) if not n.startswith("_") and
                           inspect.isclass(getattr(module, n))) or "(no classes)"
        raise UsageError(f"{module_name} has no {attr!r}; classes there: {public}",
                         fix="check the name after the colon") from exc
    if not inspect.isclass(found):
        raise UsageError(f"implementation {spec!r} is a {type(found).__name__}, not a class",
                         fix="point at the service class the scenario should construct")
    return found


def wants_async_client(cls: type) -> bool:
    """Does the class's constructor ask for an ``AsyncClient`` (by annotation or ``client_kind``)?"""
    kind = getattr(cls, "client_kind", "")
    if kind in ("sync", "async"):
        return kind == "async"
    try:
        hints = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return False
    first = next(iter(hints), None)
    annotation = "" if first is None else str(first.annotation)
    return "AsyncClient" in annotation


def asset_bytes(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def construct(cls: type, clients: Any, **options: Any) -> Any:
    """Build a service with the client it asks for, passing only the options it accepts."""
    client = clients.async_ if wants_async_client(cls) else clients.sync
    try:
        accepted = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        accepted = {}  # type: ignore[assignment]
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    return cls(client, **{k: v for k, v in options.items() if takes_all or k in accepted})


class Scenario:
    """What the three scenarios share. Subclasses set the class attributes and checks."""

    name: str = ""
    title: str = ""
    seed: str = ""  # the checkpoint file in shared/seeds/
    notebook: str = ""
    implementations: dict[str, type] = {}
    tables: tuple[str, ...] = ()  # the tables its schema creates (checkpoint names)
    interface: Any = None  # kit.scenarios.interface.Interface: what a user's class must provide

    def __init__(self, target: Target, *, clients: Any = None) -> None:
        from kit.capture import Capture

        self.target = target
        self.names = Names.for_target(target)
        self.ledger = Ledger()
        self.capture = clients.capture if clients is not None else Capture()
        self._setup_done = False
        self._admin: Any = None
        if not target.is_embedded:  # what it creates there is removed, even if no cell says so
            if not _LIVE:
                atexit.register(_cleanup_at_exit)
            _LIVE.append(self)

    @property
    def admin(self) -> Any:
        """A sync client for setup and bookkeeping, recording apart from the scenario's capture."""
        if self._admin is None:
            from kit.clients import clients

            self._admin = clients(self.target).sync
        return self._admin

    def clients(self, faults: Any = None) -> Any:
        """Fresh recording clients (all recording into this scenario's capture)."""
        from kit.clients import clients

        return clients(self.target, capture=self.capture, faults=faults)

    def service_options(self) -> dict[str, Any]:
        return {}

    def table_names(self) -> dict[str, str]:
        """Checkpoint table name → the name on this target: ``{"chats": "kit_chats"}`` on a
        user's project, ``{"chats": "chats"}`` on the embedded stack."""
        return {name: self.names.table(name) for name in self.tables}

    def implementation(self, which: str | type | None) -> type:
        """A built-in variant by name, or a user's class / ``"module:Class"``, checked against
        ``interface`` (InterfaceError names a missing method)."""
        if isinstance(which, str) and which in self.implementations:
            return self.implementations[which]
        if which is None or which == "":
            raise UsageError("no implementation given",
                             fix=f"use one of {', '.join(self.implementations)} or 'module:Class'")
        cls = load_implementation(which)
        if cls in self.implementations.values() or self.interface is None:
            return cls
        return self.interface.check(cls, lambda: self._probe(cls))

    def _probe(self, cls: type) -> Any:
        """An instance of a user's class, to find methods it sets in ``__init__``."""
        probe = self.clients()
        try:
            return construct(cls, probe, **self.service_options())
        finally:
            probe.close()

    def service_factory(self, which: str | type | None, faults: Any = None
                        ) -> tuple[Any, Any]:
        """``(make_service, close)`` for ``run_variant``: fresh clients inside the arena loop."""
        cls = self.implementation(which)
        holder: dict[str, Any] = {}

        def make_service() -> Any:
            holder["clients"] = self.clients(faults)
            return construct(cls, holder["clients"], **self.service_options())

        async def close() -> None:
            if "clients" in holder:
                holder["clients"].close()
                await holder["clients"].aclose()

        return make_service, close

    def source_diff(self, before: str = "broken", after: str = "to_thread",
                    member: str | None = None) -> Any:
        """The broken and a fixed implementation side by side (a method, or the whole class)."""
        from kit.scenarios.source import SourceDiff

        old, new = self.implementation(before), self.implementation(after)
        if member:
            return SourceDiff.of(getattr(old, member), getattr(new, member),
                                 f"{old.__name__}.{member}", f"{new.__name__}.{member}")
        return SourceDiff.of(old, new)

    def panel_choices(self) -> dict[str, Any]:
        from kit.scenarios.fault_profiles import FAULT_PROFILES

        return {"implementation": list(self.implementations), "concurrency": (1, 32, 8),
                "fault_profile": list(FAULT_PROFILES)}

    def panel_run(self, implementation: str, concurrency: int, fault_profile: str) -> Any:
        raise NotImplementedError

    def panel(self, enabled: bool = True, **start: Any) -> Any:
        """Widgets to re-run this scenario in place (inert under papermill), starting from
        ``start``: the notebook's own parameters, e.g. ``scenario.panel(enabled=interactive,
        implementation="broken", concurrency=concurrency, fault_profile=fault_profile)``.
        Raises UsageError for a name the panel has no control for."""
        from kit.ui import panel

        choices = self.panel_choices()
        unknown = sorted(set(start) - set(choices))
        if unknown:
            from kit.errors import UsageError
            raise UsageError(f"the panel has no control {', '.join(unknown)}",
                             fix=f"start it from {', '.join(choices)}")
        return panel(self.panel_run, enabled=enabled, start=start, **choices)

    def require_setup(self) -> None:
        if not self._setup_done:
            self.setup()

    def setup(self) -> Any:  # pragma: no cover - every scenario defines it
        raise NotImplementedError

    def cleanup(self) -> list[str]:
        """Remove what this scenario created on a user's project (nothing on the embedded stack):
        its tables, functions, buckets and objects, never anything it found there. Inside a
        ``kit report`` run the runner removes them once every notebook has finished (another
        notebook may be using the same ``kit_`` tables); the list says so. A scenario whose
        process exits without ``cleanup()`` is cleaned up then."""
        import os

        if self.target.is_embedded:
            removed: list[str] = []
        elif os.environ.get(HANDOVER_ENV):
            removed = hand_over(self.ledger, os.environ[HANDOVER_ENV])
        else:
            removed = remove_created(self.target, self.ledger, self.admin.storage
                                     if self.ledger.objects or self.ledger.buckets else None)
        self.close()
        return removed

    def close(self) -> None:
        """Close the admin client's connections (the scenario can still be used afterwards)."""
        if self._admin is not None:
            self._admin.options.httpx_client.close()
            self._admin = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} on {self.target.kind} {self.target.url}>"


def label_of(which: str | type) -> str:
    """A variant's name, or ``module:Class`` for a user's implementation."""
    return which if isinstance(which, str) else f"{which.__module__}:{which.__qualname__}"

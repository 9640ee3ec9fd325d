"""What /rest/v1 knows about the database: tables, columns, keys, foreign keys, functions.

Loaded from pg_catalog in one pass (the exposed schemas only) and kept until ``Database.schema_generation`` moves
(an event trigger NOTIFYs on every DDL), like PostgREST's schema cache:

    cache = SchemaCache(db)
    schema = await cache.current()
    schema.table("public", "todos")        # → Table | None
    schema = await cache.refresh_after(t0) # on a miss: reload once, unless someone already did
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from kit.stack.database import Database
from kit.stack.rest import plan

# PostgREST's db-schemas as Supabase sets it; `kit stack up --schemas` or KIT_STACK_SCHEMAS
# change it. Any other schema named by Accept-Profile/Content-Profile is 406 PGRST106.
EXPOSED_BY_DEFAULT = ("public", "graphql_public")


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: tuple[str, str]  # (schema, table) holding the key
    columns: tuple[str, ...]
    target: tuple[str, str]
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: dict[str, str]  # name → type, in table order
    primary_key: tuple[str, ...]
    defaults: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    arguments: tuple[tuple[str, str], ...]  # input (name, type) in order
    required: int  # how many leading arguments have no default
    returns: str  # type name
    returns_set: bool
    shape: str  # "void" | "scalar" | "rows"
    volatile: bool

    @property
    def argument_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.arguments)

    def accepts(self, names: set[str]) -> bool:
        known = [name for name, _ in self.arguments]
        return names <= set(known) and set(known[:self.required]) <= names


@dataclass
class Schema:
    """One snapshot of the catalog."""

    generation: int
    loaded_at: float
    exposed: tuple[str, ...]
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    functions: dict[tuple[str, str], list[Function]] = field(default_factory=dict)
    plan_enabled: bool = False  # pgrst.db_plan_enabled of the login role (kit.stack.rest.plan)

    def table(self, schema: str, name: str) -> Table | None:
        return self.tables.get((schema, name))

    def function(self, schema: str, name: str, argument_names: set[str]) -> Function | None:
        """The overload whose parameters match ``argument_names`` (PostgREST picks by names)."""
        candidates = self.functions.get((schema, name), [])
        matching = [f for f in candidates if f.accepts(argument_names)]
        if not matching:
            single_json = [f for f in candidates if len(f.arguments) == 1
                           and f.arguments[0][1] in ("json", "jsonb") and not f.arguments[0][0]]
            return single_json[0] if single_json else None
        return min(matching, key=lambda f: len(f.arguments))

    def relations_between(self, base: Table, other: Table) -> list[tuple[str, ForeignKey]]:
        """Foreign keys joining two tables: ("to_one", fk) when base holds it, ("to_many", fk) otherwise."""
        found: list[tuple[str, ForeignKey]] = []
        for fk in self.foreign_keys:
            if fk.table == base.key and fk.target == other.key:
                found.append(("to_one", fk))
            if fk.target == base.key and fk.table == other.key:
                found.append(("to_many", fk))
        return found


_TABLES = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.atthasdef
       OR a.attidentity <> '' OR a.attgenerated <> ''
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND n.nspname = ANY(%(schemas)s)
ORDER BY n.nspname, c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT con.contype, con.conname, n.nspname, c.relname,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i),
       fn.nspname, fc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'f') AND n.nspname = ANY(%(schemas)s)
"""

_FUNCTIONS = """
SELECT n.nspname, p.proname, p.proargnames, p.proargmodes,
       ARRAY(SELECT format_type(t, NULL) FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
             WITH ORDINALITY x(t, i) ORDER BY i),
       p.pronargdefaults, p.proretset, format_type(p.prorettype, NULL), rt.typtype,
       p.provolatile = 'v'
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_type rt ON rt.oid = p.prorettype
WHERE p.prokind = 'f' AND n.nspname = ANY(%(schemas)s)
"""

class SchemaCache:
    """The current ``Schema`` of the exposed schemas, reloaded when the database's schema
    generation moves. ``exposed`` is the allow-list (PostgREST's ``db-schemas``)."""

    def __init__(self, db: Database, exposed: tuple[str, ...] = EXPOSED_BY_DEFAULT) -> None:
        self.db = db
        self.exposed = exposed
        self._schema: Schema | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Schema:
        schema = self._schema
        if schema is not None and schema.generation == self.db.schema_generation:
            return schema
        async with self._lock:
            schema = self._schema
            if schema is None or schema.generation != self.db.schema_generation:
                schema = self._schema = await self._load()
            return schema

    async def refresh_after(self, started: float) -> Schema:
        """Reload once after a miss, unless a reload already finished after ``started``."""
        async with self._lock:
            if self._schema is None or self._schema.loaded_at < started:
                self._schema = await self._load()
            return self._schema

    async def _load(self) -> Schema:
        generation = self.db.schema_generation
        started = time.monotonic()
        exposed = self.exposed
        async with self.db.pool.connection() as conn:
            params = {"schemas": list(exposed)}
            tables = await (await conn.execute(_TABLES, params)).fetchall()
            constraints = await (await conn.execute(_CONSTRAINTS, params)).fetchall()
            functions = await (await conn.execute(_FUNCTIONS, params)).fetchall()
            [(plan_enabled,)] = await (await conn.execute(
                plan.SETTING_SQL, {"roles": plan.SETTING_ROLES})).fetchall()
        schema = build_schema(generation, started, exposed, tables, constraints, functions)
        schema.plan_enabled = bool(plan_enabled)
        return schema


def build_schema(generation: int, loaded_at: float, exposed: tuple[str, ...],
                 tables: list[Any], constraints: list[Any], functions: list[Any]) -> Schema:
    """Assemble a ``Schema`` from the catalog rows (pure)."""
    schema = Schema(generation, loaded_at, exposed)
    columns: dict[tuple[str, str], dict[str, str]] = {}
    defaults: dict[tuple[str, str], set[str]] = {}
    for nsp, rel, att, typ, has_default in tables:
        columns.setdefault((nsp, rel), {})[att] = typ
        if has_default:
            defaults.setdefault((nsp, rel), set()).add(att)
    keys: dict[tuple[str, str], tuple[str, ...]] = {}
    for kind, name, nsp, rel, cols, fnsp, frel, fcols in constraints:
        if kind == "p":
            keys[(nsp, rel)] = tuple(cols)
        elif fnsp is not None:
            schema.foreign_keys.append(ForeignKey(name, (nsp, rel), tuple(cols), (fnsp, frel),
                                                  tuple(fcols)))
    for key, cols in columns.items():
        schema.tables[key] = Table(key[0], key[1], cols, keys.get(key, ()),
                                   frozenset(defaults.get(key, ())))
    for nsp, name, arg_names, modes, types, n_defaults, retset, rettype, typtype, volatile in functions:
        modes = modes or ["i"] * len(types)
        names = arg_names or [""] * len(types)
        inputs = tuple((names[i], types[i]) for i, m in enumerate(modes) if m in ("i", "b", "v"))
        has_out = any(m in ("o", "b", "t") for m in modes)
        shape = ("void" if rettype == "void" else
                 "rows" if typtype == "c" or (rettype == "record" and has_out) else
                 "unsupported" if rettype == "record" else "scalar")
        schema.functions.setdefault((nsp, name), []).append(Function(
            nsp, name, inputs, len(inputs) - n_defaults, rettype, retset, shape, volatile))
    return schema

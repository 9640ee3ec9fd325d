"""Where clients come from: resolve the walker's symbolic values across every scanned file.

    resolver = Resolver([facts_db, facts_service])
    resolver.kind(("call", ("ref", "supabase.create_client"))).tag    # 'sync_client'
    resolver.kind(("getattr", ("self", "svc.py", "Service"), "supabase")).via

Symbolic values (built by kit.scan.walker):
    ("ref", "pkg.mod.name")        an imported name (library or scanned module)
    ("def", modid, "Cls.method")   a function or class defined in a scanned module
    ("self", modid, "Cls")         ``self`` inside a method of Cls
    ("global", modid, name)        a module-level name, looked up after every file is walked
    ("getattr", value, name)  ("call", value)  ("await", value)  ("lambda", body_value)
    ("op", client_value, op)       the result of a supabase I/O call
    ("inst", type_value)           an instance of an annotated type
    ("hint", name)                 unknown (a parameter without annotation)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from kit.scan import sdk
from kit.scan.walker import ModuleFacts


class Kind(NamedTuple):
    """What a value is: ``tag`` is one of sync_client, async_client, sync_result, coro,
    httpx_sync, httpx_async, sync_options, async_options, fn, cls, inst, lib, ns, unknown."""

    tag: str
    via: str = ""  # where it came from, for messages: "create_client()"
    ref: Any = None  # fn/cls/inst: (modid, qual); lib/ns: dotted name
    is_async: bool = False  # fn: an async def
    inner: Kind | None = None  # coro: what awaiting it gives; fn (lambda): what it returns


UNKNOWN = Kind("unknown")
_MAX_DEPTH = 40


class Resolver:
    """Resolves symbolic values against the facts of every scanned module (memoized)."""

    def __init__(self, modules: list[ModuleFacts]) -> None:
        self.modules = {m.modid: m for m in modules}
        self.index: dict[str, str] = {}
        for m in sorted(modules, key=lambda m: len(m.parts)):
            parts = m.parts[:-1] if m.parts and m.parts[-1] == "__init__" else m.parts
            for start in range(len(parts)):
                self.index.setdefault(".".join(parts[start:]), m.modid)
        self._memo: dict[Any, Kind] = {}
        self._busy: set[Any] = set()

    def kind(self, value: Any) -> Kind:
        if value is None:
            return UNKNOWN
        cached = self._memo.get(value)
        if cached is not None:
            return cached
        if value in self._busy or len(self._busy) > _MAX_DEPTH:
            return UNKNOWN  # a cycle (a = b; b = a) or absurd depth: give up, never guess
        self._busy.add(value)
        try:
            result = self._kind(value)
        finally:
            self._busy.discard(value)
        self._memo[value] = result
        return result

    def _kind(self, value: tuple[Any, ...]) -> Kind:
        tag = value[0]
        if tag == "ref":
            return self.ref(value[1])
        if tag == "def":
            return self._definition(value[1], value[2])
        if tag == "self":
            return Kind("inst", ref=(value[1], value[2]))
        if tag == "global":
            module = self.modules.get(value[1])
            return self._first(module.globals.get(value[2], ()) if module else ())
        if tag == "getattr":
            return self.getattr(self.kind(value[1]), value[2])
        if tag == "call":
            return self.call(self.kind(value[1]))
        if tag == "await":
            awaited = self.kind(value[1])
            return (awaited.inner or UNKNOWN) if awaited.tag == "coro" else UNKNOWN
        if tag == "op":
            client = self.kind(value[1])
            if client.tag == "sync_client":
                return Kind("sync_result", via=client.via)
            if client.tag == "async_client":
                return Kind("coro", via=client.via, inner=Kind("result"))
            return UNKNOWN
        if tag == "lambda":
            return Kind("fn", inner=self.kind(value[1]))
        if tag == "inst":
            return self.instance(self.kind(value[1]))
        return UNKNOWN

    def _first(self, values: Any) -> Kind:
        for value in values:
            found = self.kind(value)
            if found.tag != "unknown":
                return found
        return UNKNOWN

    def ref(self, dotted: str) -> Kind:
        if dotted in sdk.LIBRARY:
            return Kind("lib", via=sdk.LIBRARY[dotted].label, ref=dotted)
        parts = dotted.split(".")
        if parts[0] not in sdk.LIBRARY_PACKAGES:
            for cut in range(len(parts) - 1, 0, -1):
                modid = self.index.get(".".join(parts[:cut]))
                if modid is not None:
                    found = self._first(self.modules[modid].globals.get(parts[cut], ()))
                    for name in parts[cut + 1:]:
                        found = self.getattr(found, name)
                    return found
        return Kind("ns", ref=dotted)

    def _definition(self, modid: str, qual: str) -> Kind:
        module = self.modules[modid]
        func = module.functions.get(qual)
        if func is not None:
            return Kind("fn", via=f"{func.name}()", ref=(modid, qual), is_async=func.is_async)
        if qual in module.classes:
            return Kind("cls", via=module.classes[qual].name, ref=(modid, qual))
        return UNKNOWN

    def getattr(self, base: Kind, name: str) -> Kind:
        if base.tag in ("ns", "lib"):
            return self.ref(f"{base.ref}.{name}")
        if base.tag in ("inst", "cls"):
            return self.member(base.ref, name, set())
        return UNKNOWN

    def member(self, ref: tuple[str, str], name: str, seen: set[tuple[str, str]]) -> Kind:
        if ref in seen:
            return UNKNOWN
        seen.add(ref)
        cls = self.modules[ref[0]].classes.get(ref[1])
        if cls is None:
            return UNKNOWN
        found = self._first(cls.attrs.get(name, ()))
        if found.tag != "unknown":
            return found
        for base in cls.bases:
            base_kind = self.kind(base)
            if base_kind.tag == "cls":
                found = self.member(base_kind.ref, name, seen)
                if found.tag != "unknown":
                    return found
        return UNKNOWN

    def call(self, callee: Kind) -> Kind:
        if callee.tag == "lib":
            obj = sdk.LIBRARY[callee.ref]
            if obj.kind == "class":
                return Kind(obj.makes, via=f"{callee.ref.rsplit('.', 1)[-1]}(...)")
            if obj.kind == "func":
                return Kind(obj.makes, via=obj.label)
            if obj.kind == "afunc":
                return Kind("coro", via=obj.label, inner=Kind(obj.makes, via=obj.label))
            return UNKNOWN
        if callee.tag == "fn":
            result = callee.inner if callee.ref is None else self.returns(callee.ref)
            result = result or UNKNOWN
            return Kind("coro", via=callee.via, inner=result) if callee.is_async else result
        if callee.tag == "cls":
            made = self._library_base(callee.ref)
            return made if made is not None else Kind("inst", via=callee.via, ref=callee.ref)
        return UNKNOWN

    def _library_base(self, ref: tuple[str, str]) -> Kind | None:
        """A scanned class that subclasses a library class makes what that class makes."""
        cls = self.modules[ref[0]].classes.get(ref[1])
        if cls is None:
            return None
        for base in cls.bases:
            base_kind = self.kind(base)
            if base_kind.tag == "lib" and sdk.LIBRARY[base_kind.ref].kind == "class":
                return Kind(sdk.LIBRARY[base_kind.ref].makes, via=f"{cls.name}({base_kind.via})")
        return None

    def returns(self, ref: tuple[str, str]) -> Kind:
        key = ("returns", *ref)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        if key in self._busy:
            return UNKNOWN
        self._busy.add(key)
        try:
            func = self.modules[ref[0]].functions[ref[1]]
            found = self.kind(func.ann) if func.ann is not None else UNKNOWN
            if found.tag == "unknown":
                found = self._first(func.returns)
        finally:
            self._busy.discard(key)
        self._memo[key] = found
        return found

    def instance(self, type_kind: Kind) -> Kind:
        if type_kind.tag == "lib" and sdk.LIBRARY[type_kind.ref].kind == "class":
            obj = sdk.LIBRARY[type_kind.ref]
            return Kind(obj.makes, via=f"a `{type_kind.ref.rsplit('.', 1)[-1]}` annotation")
        if type_kind.tag == "cls":
            made = self._library_base(type_kind.ref)
            return made if made is not None else Kind("inst", via=type_kind.via, ref=type_kind.ref)
        return UNKNOWN

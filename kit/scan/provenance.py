"""Where clients come from: resolve the walker's symbolic values across every scanned file.

    resolver = Resolver([facts_db, facts_service])
    resolver.kind(("call", ("ref", "supabase.create_client"))).tag    # 'sync_client'
    resolver.kind(("getattr", ("self", "svc.py", "Service"), "supabase")).via

Symbolic values (built by kit.scan.walker):
    ("ref", "pkg.mod.name", root)  an imported name (library or scanned module), resolved
                                   first below the importing module's import root
    ("def", modid, "Cls.method")   a function or class defined in a scanned module
    ("self", modid, "Cls")         ``self`` inside a method of Cls
    ("global", modid, name)        a module-level name, looked up after every file is walked
    ("getattr", value, name)  ("call", value)  ("await", value)  ("lambda", body_value)
    ("op", client_value, op, result_type_name)   the result of a supabase I/O call
    ("bound", client_value, op, text)   that call's method, not called: ``sb.table("t").execute``
    ("inst", type_value)           an instance of an annotated type
    ("param", modid, qual, name)   a parameter: what every caller that says passes
    ("provided", provider_value)   a parameter filled per request by ``Depends(provider)``
    ("either", value, ...)         ``a or b``, ``a if c else b``: the one kind they agree on
    ("hint", name)                 unknown (``*args``, a lambda's parameter)
"""

from __future__ import annotations

from pathlib import PurePath
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


def _last_name(value: Any) -> str:
    """The name a value is spelled with last: ``request.app.state`` → ``"state"``."""
    if not isinstance(value, tuple) or not value:
        return ""
    if value[0] == "getattr":
        return value[2]
    if value[0] in ("global", "param"):
        return value[-1]
    if value[0] in ("hint", "ref"):
        return value[1].rsplit(".", 1)[-1]
    return ""


class Resolver:
    """Resolves symbolic values against the facts of every scanned module (memoized)."""

    def __init__(self, modules: list[ModuleFacts]) -> None:
        self.modules = {m.modid: m for m in modules}
        self.exact: dict[tuple[str, str], str] = {}  # (import root, dotted name) -> modid
        self.suffixes: dict[str, list[str]] = {}  # any dotted tail -> modids that end so
        for m in modules:
            parts = m.parts[:-1] if m.parts and m.parts[-1] == "__init__" else m.parts
            self.exact[(m.root, ".".join(parts))] = m.modid
            path = PurePath(m.modid)
            every = (*path.parent.parts[1:], path.name.rsplit(".", 1)[0])
            if every[-1] == "__init__":
                every = every[:-1]
            for start in range(len(every)):
                self.suffixes.setdefault(".".join(every[start:]), []).append(m.modid)
        self._memo: dict[Any, Kind] = {}
        self._busy: set[Any] = set()
        self._callers: dict[str, list[Any]] | None = None
        self._stores: dict[tuple[str, str], list[Any]] | None = None

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
            return self.ref(value[1], value[2] if len(value) > 2 else "")
        if tag == "def":
            return self._definition(value[1], value[2])
        if tag == "self":
            return Kind("inst", ref=(value[1], value[2]))
        if tag == "global":
            module = self.modules.get(value[1])
            return self._first(module.globals.get(value[2], ()) if module else ())
        if tag == "getattr":
            found = self.getattr(self.kind(value[1]), value[2])
            return found if found.tag != "unknown" else self.stored(value[1], value[2])
        if tag == "call":
            return self.call(self.kind(value[1]))
        if tag == "await":
            awaited = self.kind(value[1])
            return (awaited.inner or UNKNOWN) if awaited.tag == "coro" else UNKNOWN
        if tag == "op":
            client = self.kind(value[1])
            if client.tag == "sync_client":
                return Kind("sync_result", via=client.via, ref=value[3] or "APIResponse")
            if client.tag == "async_client":
                return Kind("coro", via=client.via, inner=Kind("result"))
            return UNKNOWN
        if tag == "bound":  # an I/O method not called here: an async def on an AsyncClient
            client = self.kind(value[1])
            if client.tag == "async_client":
                return Kind("fn", via=value[3], is_async=True, inner=Kind("result"))
            return UNKNOWN
        if tag == "lambda":
            return Kind("fn", inner=self.kind(value[1]))
        if tag == "inst":
            return self.instance(self.kind(value[1]))
        if tag == "either":
            return self._agreed(self.kind(v) for v in value[1:])
        if tag == "param":
            return self.parameter(value[1], value[2], value[3])
        if tag == "provided":
            provider = self.kind(value[1])
            if provider.tag == "fn" and provider.ref is not None:
                return self.returns(provider.ref)  # FastAPI awaits an async provider itself
            made = self.call(provider)
            return (made.inner or UNKNOWN) if made.tag == "coro" else made
        return UNKNOWN

    @staticmethod
    def _agreed(kinds: Any) -> Kind:
        """The one known kind among several (tag and origin); UNKNOWN if none or they differ."""
        found = UNKNOWN
        for kind in kinds:
            if kind.tag == "unknown":
                continue
            if found.tag != "unknown" and (kind.tag, kind.ref) != (found.tag, found.ref):
                return UNKNOWN
            if found.tag == "unknown":
                found = kind
        return found

    def stored(self, base: Any, name: str) -> Kind:
        """``request.app.state.supabase``: what was stored under ``<x>.state.supabase``
        anywhere (``app.state.supabase = create_client(...)`` in a lifespan)."""
        last = _last_name(base)
        if not last:
            return UNKNOWN
        if self._stores is None:
            self._stores = {}
            for module in self.modules.values():
                for key, values in module.stores.items():
                    self._stores.setdefault(key, []).extend(values)
        return self._agreed(self.kind(v) for v in self._stores.get((last, name), ()))

    def parameter(self, modid: str, qual: str, name: str) -> Kind:
        """What the callers pass for a parameter, when every caller that is known agrees."""
        func = self.modules[modid].functions.get(qual)
        if func is None or name not in func.params:
            return UNKNOWN
        return self._agreed(self.kind(arg) for arg in self.arguments((modid, qual), name))

    def arguments(self, ref: tuple[str, str], name: str) -> list[Any]:
        """The values callers pass for parameter ``name`` of function ``ref``."""
        func = self.modules[ref[0]].functions[ref[1]]
        owner, _, short = ref[1].rpartition(".")
        is_method = bool(owner) and owner in self.modules[ref[0]].classes
        lookup = [short]
        if short == "__init__" and is_method:
            lookup.append(owner.rsplit(".", 1)[-1])
        found: list[Any] = []
        for key in lookup:
            for event in self.callers().get(key, ()):
                callee = self.kind(event.value)
                if callee.tag == "fn" and callee.ref == ref:
                    base = event.value[1] if event.value[0] == "getattr" else None
                    shift = int(is_method and "staticmethod" not in func.decorators
                                and base is not None and self.kind(base).tag == "inst")
                elif callee.tag == "cls" and short == "__init__" and callee.ref == (ref[0], owner):
                    shift = 1
                else:
                    continue
                index = func.params.index(name) - shift
                if name in event.keywords:
                    found.append(event.keywords[name])
                elif 0 <= index < len(event.args) and not (event.starred and event.args[index] is None):
                    found.append(event.args[index])
        return found

    def callers(self) -> dict[str, list[Any]]:
        """Call events of every module by the callee's last name (built once)."""
        if self._callers is None:
            self._callers = {}
            for module in self.modules.values():
                for event in module.events:
                    if event.type in ("call", "libcall"):
                        short = event.text.rsplit(".", 1)[-1]
                        self._callers.setdefault(short, []).append(event)
        return self._callers

    def _first(self, values: Any) -> Kind:
        for value in values:
            found = self.kind(value)
            if found.tag != "unknown":
                return found
        return UNKNOWN

    def module(self, dotted: str, root: str) -> str | None:
        """The scanned module an import names: the one below the importer's root, else the
        only one anywhere whose dotted name ends so (never the first of several)."""
        exact = self.exact.get((root, dotted))
        if exact is not None:
            return exact
        candidates = self.suffixes.get(dotted, [])
        if len(candidates) > 1 and root:
            candidates = [c for c in candidates if c.startswith(root.rstrip("/") + "/")]
        return candidates[0] if len(candidates) == 1 else None

    def ref(self, dotted: str, root: str = "") -> Kind:
        if dotted in sdk.LIBRARY:
            return Kind("lib", via=sdk.LIBRARY[dotted].label, ref=dotted)
        parts = dotted.split(".")
        if parts[0] not in sdk.LIBRARY_PACKAGES:
            if self.module(dotted, root) is not None:
                return Kind("ns", via=root, ref=dotted)  # a module: `from . import db`
            for cut in range(len(parts) - 1, 0, -1):
                modid = self.module(".".join(parts[:cut]), root)
                if modid is not None:
                    found = self._first(self.modules[modid].globals.get(parts[cut], ()))
                    for name in parts[cut + 1:]:
                        found = self.getattr(found, name)
                    return found
        return Kind("ns", via=root, ref=dotted)

    def _definition(self, modid: str, qual: str) -> Kind:
        module = self.modules[modid]
        func = module.functions.get(qual)
        if func is not None:
            return Kind("fn", via=f"{func.name}()", ref=(modid, qual), is_async=func.is_async)
        if qual in module.classes:
            return Kind("cls", via=module.classes[qual].name, ref=(modid, qual))
        return UNKNOWN

    def getattr(self, base: Kind, name: str) -> Kind:
        if base.tag == "ns":
            return self.ref(f"{base.ref}.{name}", base.via)
        if base.tag == "lib":
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
            name = type_kind.ref.rsplit(".", 1)[-1]
            return Kind(obj.makes, via=f"{'an' if name[:1] in 'AEIOU' else 'a'} `{name}` annotation")
        if type_kind.tag == "cls":
            made = self._library_base(type_kind.ref)
            return made if made is not None else Kind("inst", via=type_kind.via, ref=type_kind.ref)
        return UNKNOWN

"""Questions about the call graph, answered once provenance is known (memoized per scan).

    reach = Reach(resolver)
    reach.blocking(("app/db.py", "get_user"))   # ((display, line, "execute"),) or ()
    reach.per_request(("app/db.py", "make"))     # ((display, line, "read_user"), ...) or ()

A *step* is ``(path as findings name it, line, what is called there)``. Helpers are followed
through sync functions and methods of classes whose instances are known, across files, up to
``MAX_DEPTH`` calls deep; a cycle or an unknown callee ends the search, never a guess.
"""

from __future__ import annotations

from typing import Any

from kit.scan import sdk
from kit.scan.provenance import Kind, Resolver
from kit.scan.walker import EXECUTOR_ARG, Event, FuncFacts

Step = tuple[str, int, str]
Ref = tuple[str, str]
MAX_DEPTH = 6
# Decorators that make a function run per request / per message (FastAPI, Starlette, Flask,
# aiohttp, Sanic, Quart, aiogram, python-telegram-bot, discord.py command handlers).
ROUTE_DECORATORS = frozenset({
    "get", "post", "put", "patch", "delete", "head", "options", "route", "api_route",
    "websocket", "middleware", "before_request", "message", "message_handler",
    "callback_query_handler", "callback_query", "command", "on_message", "handler",
})
CACHING_DECORATORS = frozenset({"lru_cache", "cache", "cached", "cached_property", "alru_cache",
                                "once"})


class Reach:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._blocking: dict[Ref, tuple[Step, ...]] = {}
        self._touches: dict[Ref, bool] = {}
        self._per_request: dict[Ref, tuple[Step, ...]] | None = None

    def function(self, ref: Ref) -> FuncFacts | None:
        module = self.resolver.modules.get(ref[0])
        return module.functions.get(ref[1]) if module is not None else None

    def display(self, modid: str) -> str:
        module = self.resolver.modules.get(modid)
        return (module.display or modid) if module is not None else modid

    def callee(self, event: Event) -> Kind:
        """The user function an event calls (a class call means its ``__init__``)."""
        kind = self.resolver.kind(event.value)
        if kind.tag == "cls" and kind.ref is not None:
            init = (kind.ref[0], f"{kind.ref[1]}.__init__")
            if self.function(init) is not None:
                return Kind("fn", via=f"{kind.via}()", ref=init)
        return kind

    def blocking(self, ref: Ref, depth: int = 0) -> tuple[Step, ...]:
        """The chain from a sync function down to a sync supabase call it makes, or ()."""
        if ref in self._blocking:
            return self._blocking[ref]
        self._blocking[ref] = ()  # a cycle ends here
        func = self.function(ref)
        found: tuple[Step, ...] = ()
        if func is not None and not func.is_async:
            where = self.display(ref[0])
            for op in func.ops:
                if (op.usage != EXECUTOR_ARG and sdk.blocks_when_sync(op.op)
                        and self.resolver.kind(op.value).tag == "sync_client"):
                    found = ((where, op.line, op.call_text),)
                    break
            if not found and depth < MAX_DEPTH:
                for call in func.calls:
                    callee = self.callee(call)
                    if callee.tag == "fn" and callee.ref is not None and not callee.is_async:
                        below = self.blocking(callee.ref, depth + 1)
                        if below:
                            found = ((where, call.line, f"{call.text}()"), *below)
                            break
        self._blocking[ref] = found
        return found

    def touches_supabase(self, ref: Ref, depth: int = 0) -> bool:
        """Whether a function (async or not) makes supabase calls, itself or through helpers."""
        if ref in self._touches:
            return self._touches[ref]
        self._touches[ref] = False
        func = self.function(ref)
        found = False
        if func is not None:
            found = any(self.resolver.kind(op.value).tag in ("sync_client", "async_client")
                        or sdk.looks_like_supabase(op.client_text) for op in func.ops)
            if not found and depth < MAX_DEPTH:
                for call in func.calls:
                    callee = self.callee(call)
                    if (callee.tag == "fn" and callee.ref is not None
                            and self.touches_supabase(callee.ref, depth + 1)):
                        found = True
                        break
        self._touches[ref] = found
        return found

    def per_request(self, ref: Ref) -> tuple[Step, ...]:
        """How a function is reached per request: from a route handler or a ``Depends``
        provider down to it (first step is the handler), or () if it is not."""
        if self._per_request is None:
            self._per_request = self._request_graph()
        return self._per_request.get(ref, ())

    def _request_graph(self) -> dict[Ref, tuple[Step, ...]]:
        paths: dict[Ref, tuple[Step, ...]] = {}
        frontier: list[Ref] = []
        for modid, module in self.resolver.modules.items():
            for qual, func in module.functions.items():
                if ROUTE_DECORATORS & set(func.decorators) and not self._cached(func):
                    paths[(modid, qual)] = ((module.display or modid, func.line,
                                             f"route handler {func.name}"),)
                    frontier.append((modid, qual))
            for provider in module.providers:
                kind = self.resolver.kind(provider)
                made = self.function(kind.ref) if kind.tag == "fn" and kind.ref else None
                if made is not None and kind.ref not in paths and not self._cached(made):
                    paths[kind.ref] = ((self.display(kind.ref[0]), made.line,
                                        f"Depends({made.name}) provider"),)
                    frontier.append(kind.ref)
        for _ in range(MAX_DEPTH):
            following: list[Ref] = []
            for ref in frontier:
                caller = self.function(ref)
                assert caller is not None
                for call in caller.calls:
                    callee = self.callee(call)
                    target = callee.ref if callee.tag == "fn" else None
                    if target is None or target in paths:
                        continue
                    called = self.function(target)
                    if called is None or self._cached(called):
                        continue
                    paths[target] = (*paths[ref], (self.display(ref[0]), call.line,
                                                   f"{call.text}()"))
                    following.append(target)
            frontier = following
        return paths

    @staticmethod
    def _cached(func: FuncFacts) -> bool:
        return bool(CACHING_DECORATORS & set(func.decorators))


def chain_text(steps: Any) -> str:
    """``routes.py:40 get_user() → db/users.py:12 execute``."""
    return " → ".join(f"{path}:{line} {what}" for path, line, what in steps)

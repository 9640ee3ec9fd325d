"""The await guard: ``await`` on a sync supabase result raises a kit error naming the line.

    with kit.await_guard():
        await client.table("t").select("*").execute()   # client is a sync Client
    # AwaitOnSyncResult: await on a sync supabase result (APIResponse) at app.py:42 in log_llm …

    guard = kit.await_guard(); guard.enable(); ...; guard.disable()   # the same, by hand

While enabled, postgrest's ``APIResponse`` (and so ``SingleAPIResponse``), storage3's
``UploadResponse`` and supabase_auth's ``AuthResponse``/``UserResponse`` get an ``__await__``
that raises; the last ``disable()`` removes it. Results of builtin types (``bytes`` from a
download, ``list`` from ``list()``) cannot be patched and keep the bare TypeError. Enabling is counted and locked, so nested and
concurrent guards in several threads are safe; the error is a ``TypeError`` too, so code
that caught the bare TypeError still catches it.
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any, NoReturn

from typing_extensions import Self

from kit.errors import KitError, UsageError
from kit.loop.frames import FrameInfo, classify

# (module, class): results of sync SDK calls that are objects of classes we may patch.
# Async clients' calls are coroutines that return these same classes, so only an ``await``
# on the object itself (a sync call's result) ever reaches the patched ``__await__``.
GUARDED_CLASSES = (("postgrest.base_request_builder", "APIResponse"),
                   ("storage3.types", "UploadResponse"),
                   ("supabase_auth.types", "AuthResponse"),
                   ("supabase_auth.types", "UserResponse"))

_lock = threading.Lock()
_depth = 0
_saved: dict[type, Any] = {}
_MISSING = object()


class AwaitOnSyncResult(KitError, TypeError):
    """``await`` was used on the result of a sync supabase call."""

    def __init__(self, result_type: str, call_site: FrameInfo | None) -> None:
        self.result_type = result_type
        self.call_site = call_site
        where = f" at {call_site.where}" if call_site else ""
        source = f": `{call_site.source_line}`" if call_site and call_site.source_line else ""
        super().__init__(
            f"await on a sync supabase result ({result_type}){where}{source}; a sync Client's "
            "calls return their result itself, not a coroutine",
            fix="either build the client with `await acreate_client(url, key)` and keep the "
                "`await`, or keep the sync client and run the call off the loop with "
                "`await asyncio.to_thread(lambda: ...execute())` (dropping the `await` alone "
                "blocks the event loop)")


def _refuse_await(self: object) -> NoReturn:
    frame = sys._getframe(1)
    code = frame.f_code
    site = FrameInfo(code.co_filename, frame.f_lineno or 0, code.co_name, classify(code.co_filename))
    del frame
    raise AwaitOnSyncResult(type(self).__name__, site)


def _guarded_classes() -> list[type]:
    return [getattr(importlib.import_module(module), name) for module, name in GUARDED_CLASSES]


def enable_await_guard() -> None:
    """Turn the guard on (counted: each enable needs one disable)."""
    global _depth
    with _lock:
        _depth += 1
        if _depth == 1:
            for cls in _guarded_classes():
                _saved[cls] = cls.__dict__.get("__await__", _MISSING)
                cls.__await__ = _refuse_await  # type: ignore[attr-defined]


def disable_await_guard() -> None:
    """Turn the guard off; the last disable restores the classes exactly as they were."""
    global _depth
    with _lock:
        if _depth == 0:
            raise UsageError("await guard disabled more times than it was enabled",
                             fix="pair each enable() with one disable(), or use `with kit.await_guard():`")
        _depth -= 1
        if _depth == 0:
            for cls, original in _saved.items():
                if original is _MISSING:
                    delattr(cls, "__await__")
                else:
                    cls.__await__ = original  # type: ignore[attr-defined]
            _saved.clear()


def await_guard_active() -> bool:
    return _depth > 0


class AwaitGuard:
    """Context manager and switch for the await guard: ``with kit.await_guard(): ...``."""

    def __init__(self) -> None:
        self._enabled_here = 0

    def enable(self) -> Self:
        enable_await_guard()
        self._enabled_here += 1
        return self

    def disable(self) -> None:
        if self._enabled_here == 0:
            raise UsageError("this await guard is not enabled", fix="call enable() first")
        self._enabled_here -= 1
        disable_await_guard()

    @property
    def active(self) -> bool:
        return await_guard_active()

    def __enter__(self) -> Self:
        return self.enable()

    def __exit__(self, *exc: object) -> None:
        self.disable()

    def __repr__(self) -> str:
        return f"<AwaitGuard {'on' if self.active else 'off'}>"


def await_guard() -> AwaitGuard:
    """``with kit.await_guard(): await sync_client.table("t").select("*").execute()`` raises
    AwaitOnSyncResult naming the line, instead of the bare TypeError."""
    return AwaitGuard()

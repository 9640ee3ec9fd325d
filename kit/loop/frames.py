"""Stack samples of another thread, and which frames are the user's, the SDK's or neither.

    stack = sample_stack(loop_thread_id)        # outermost frame first
    user = last_user_frame(stack)               # FrameInfo('app.py', 42, 'download_image', 'user')
    sdk = first_sdk_frame(stack, after=user)    # FrameInfo('.../storage3/_sync/file_api.py', ..., 'download', 'sdk')

Kinds: ``user`` (the code under test, including kit/scenarios, which stands in for a
user's app), ``sdk`` (supabase, postgrest, storage3, supabase_auth, supabase_functions,
realtime, httpx, httpcore, h11, h2), ``kit`` (the kit's own machinery), ``stdlib``
(asyncio, threading, ...) and ``library`` (other installed packages: IPython, ipykernel).
"""

from __future__ import annotations

import inspect
import os
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import FrameType
from typing import Literal

FrameKind = Literal["user", "sdk", "kit", "stdlib", "library"]

SDK_PACKAGES = ("supabase", "postgrest", "storage3", "supabase_auth", "supabase_functions",
                "realtime", "gotrue", "httpx", "httpcore", "h11", "h2")
# Parts of kit that play the user's app (broken and fixed implementations): their frames are "user".
USER_CODE_IN_KIT = ("scenarios",)

_KIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB_DIRS = tuple({os.path.abspath(p) + os.sep for key in ("stdlib", "platstdlib")
                      if (p := sysconfig.get_paths().get(key))})
_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE
_SITE_MARKERS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


@dataclass(frozen=True)
class FrameInfo:
    """One frame of a sampled stack: ``FrameInfo("app.py", 42, "download_image", "user")``."""

    filename: str
    lineno: int
    function: str
    kind: FrameKind
    is_async: bool = False  # a coroutine's frame (async def), not a plain function's

    @property
    def short_path(self) -> str:
        """The path from the package root (``storage3/_sync/file_api.py``) or the file name."""
        return short_path(self.filename)

    @property
    def where(self) -> str:
        """``storage3/_sync/file_api.py:141 download``."""
        return f"{self.short_path}:{self.lineno} {self.function}"

    @property
    def source_line(self) -> str:
        import linecache
        return linecache.getline(self.filename, self.lineno).strip()

    def to_dict(self) -> dict[str, object]:
        return {"file": self.short_path, "line": self.lineno, "function": self.function,
                "kind": self.kind, "async": self.is_async, "source": self.source_line}


@lru_cache(maxsize=4096)
def classify(filename: str) -> FrameKind:
    """The kind of code a file holds: ``classify(httpx.__file__) == "sdk"``."""
    if filename.startswith(("<frozen", "<string")):
        return "stdlib"
    path = os.path.abspath(filename)
    if path.startswith(_KIT_DIR + os.sep):
        inner = path[len(_KIT_DIR) + 1:].split(os.sep)
        return "user" if inner and inner[0] in USER_CODE_IN_KIT else "kit"
    for marker in _SITE_MARKERS:
        if marker in path:
            package = path.split(marker, 1)[1].split(os.sep, 1)[0].removesuffix(".py")
            return "sdk" if package in SDK_PACKAGES else "library"
    if path.startswith(_STDLIB_DIRS):
        return "stdlib"
    return "user"


@lru_cache(maxsize=4096)
def short_path(filename: str) -> str:
    path = os.path.abspath(filename)
    for marker in _SITE_MARKERS:
        if marker in path:
            return path.split(marker, 1)[1]
    if path.startswith(_KIT_DIR + os.sep):
        return "kit" + path[len(_KIT_DIR):]
    for stdlib in _STDLIB_DIRS:
        if path.startswith(stdlib):
            return path[len(stdlib):]
    cwd = os.getcwd() + os.sep
    return path[len(cwd):] if path.startswith(cwd) else filename


def sample_stack(thread_id: int) -> tuple[FrameInfo, ...]:
    """The stack of another thread right now, outermost frame first (empty if it is gone)."""
    return stack_of(sys._current_frames().get(thread_id))


def stack_of(frame: FrameType | None) -> tuple[FrameInfo, ...]:
    """The stack from ``frame`` out (a signal handler's frame argument), outermost first."""
    frames: list[FrameInfo] = []
    while frame is not None:
        code = frame.f_code
        frames.append(FrameInfo(code.co_filename, frame.f_lineno or 0, code.co_name,
                                classify(code.co_filename), bool(code.co_flags & _ASYNC_FLAGS)))
        frame = frame.f_back
    del frame
    frames.reverse()
    return tuple(frames)


def common_prefix(samples: Sequence[Sequence[FrameInfo]]) -> tuple[FrameInfo, ...]:
    """The frames (same file, line and function) that every sample shares, outermost first."""
    if not samples:
        return ()
    prefix: list[FrameInfo] = []
    for frames in zip(*samples):
        if any(f != frames[0] for f in frames[1:]):
            break
        prefix.append(frames[0])
    return tuple(prefix)


def last_user_frame(stack: Sequence[FrameInfo]) -> FrameInfo | None:
    """The deepest user frame of a stack (the line in the user's code that was running)."""
    return next((f for f in reversed(stack) if f.kind == "user"), None)


def first_sdk_frame(stack: Sequence[FrameInfo], after: FrameInfo | None = None) -> FrameInfo | None:
    """The outermost SDK frame below ``after`` (the SDK call the user's line made)."""
    start = 0
    if after is not None:
        for index, frame in enumerate(stack):
            if frame is after or frame == after:
                start = index + 1
    return next((f for f in stack[start:] if f.kind == "sdk"), None)

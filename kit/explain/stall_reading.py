"""What a stall's samples show, read from the stacks the loop monitor took during it.

    reading = read_stall(stall)           # a kit.loop.Stall (kit.watch_loop, a diff row, pytest)
    reading.kind                          # "thread_start", "sync_sdk", "sdk_on_loop", "code" or "unsampled"
    reading.executor                      # "asyncio.to_thread" when a worker thread was being started
    reading.caller                        # the async line that made the blocking call (where to_thread goes)
    reading.lines()                       # evidence: where, the blocking call, CPU and run-queue times

Kinds, from the samples (each site's stack, outermost frame first; the site with most samples
that shows more than the loop's own machinery decides):

- ``thread_start``: the loop thread was inside ``threading.Thread.start`` (or an executor's
  ``_adjust_thread_count``, which calls it). ``Thread.start`` returns only once the new thread
  has run (it waits on the thread's ``_started`` event, CPython ``threading.py``), so on a
  loaded machine each new thread costs the loop tens of ms. ``ThreadPoolExecutor.submit`` starts
  a worker when none is idle (``concurrent/futures/thread.py``), and ``asyncio.to_thread`` /
  ``loop.run_in_executor(None, ...)`` submit to the loop's default executor, made at first use.
- ``sync_sdk``: the first SDK frame below the user's line is a plain function of supabase,
  postgrest, storage3, supabase_auth/gotrue or httpx (``kit.loop.frames.SDK_PACKAGES``): a sync
  client's call ran on the loop's thread.
- ``sdk_on_loop``: SDK frames were sampled, but the SDK was entered through async code (an
  AsyncClient's work that does not yield, such as building its SSL context).
- ``code``: neither: the user's own code (or a library it called) held the thread.
- ``kit``: the user's line called into the kit itself (``kit.watch_loop`` starting its monitor):
  the kit's own time, not the user's code.
- ``unsampled``: no sample fell inside the stall (or only the loop's own machinery): nothing
  says what ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kit.loop.frames import FrameInfo, last_user_frame

__all__ = ["StallReading", "read_stall"]

Kind = Literal["thread_start", "sync_sdk", "sdk_on_loop", "code", "kit", "unsampled"]

# (file from the package root, function) -> how the user's code reached a worker thread start
_EXECUTOR_ENTRIES = (
    (("asyncio/threads.py", "to_thread"), "asyncio.to_thread"),
    (("asyncio/base_events.py", "run_in_executor"), "loop.run_in_executor"),
    (("anyio/to_thread.py", "run_sync"), "anyio.to_thread.run_sync"),
    (("concurrent/futures/thread.py", "submit"), "ThreadPoolExecutor.submit"),
)
_THREAD_START = (("threading.py", "start"), ("concurrent/futures/thread.py", "_adjust_thread_count"))


@dataclass(frozen=True)
class StallReading:
    """One stall, read: its kind and the frames that say it (see the module's docstring)."""

    kind: Kind
    duration_ms: float
    user_frame: FrameInfo | None  # the deepest line of the user's code sampled
    caller: FrameInfo | None  # the user's async frame whose line made the blocking call
    sdk_frame: FrameInfo | None
    inner: FrameInfo | None  # the innermost frame sampled: where the thread waited or computed
    executor: str | None  # for a thread start: the call that submitted the work
    cpu_ms: float | None
    runqueue_ms: float | None
    samples: int
    where: tuple[str, ...]  # each distinct stalling line, most samples first

    def lines(self) -> list[str]:
        """The evidence, one fact a line."""
        lines = [f"the loop's thread was at {where}" for where in self.where[:3]]
        if self.user_frame is not None and self.user_frame.source_line:
            lines.insert(1, f"    {self.user_frame.source_line}")
        if self.inner is not None and self.inner != self.user_frame:
            lines.append(f"innermost frame sampled: {self.inner.where}"
                         + (f" ({self.inner.source_line})" if self.inner.source_line else ""))
        if self.kind == "thread_start":
            lines.append(f"the samples show threading.Thread.start under {self.executor or 'user code'}")
        lines.append(self.times())
        return lines

    def times(self) -> str:
        """``CPU 7 ms of 35 ms; 24 ms waiting for a CPU`` (what the kernel said about the thread)."""
        if self.cpu_ms is None:
            return f"the loop's thread CPU time over the {self.duration_ms:.0f} ms is not known"
        text = f"the loop's thread used {self.cpu_ms:.0f} ms of CPU in {self.duration_ms:.0f} ms"
        if self.runqueue_ms is not None:
            text += f" and waited {self.runqueue_ms:.0f} ms for a CPU"
        return text

    @property
    def computing(self) -> bool:
        """The thread computed most of the time it could run (the stall less its wait for a
        CPU), rather than blocking in a wait."""
        runnable = self.duration_ms - (self.runqueue_ms or 0.0)
        return self.cpu_ms is not None and self.cpu_ms >= 0.5 * runnable


def read_stall(stall: Any) -> StallReading:
    """``stall`` (a ``kit.loop.Stall``) read from its sites' stacks, most samples first."""
    sites = list(getattr(stall, "sites", ()) or ())
    stacks: list[Sequence[FrameInfo]] = [site.stack for site in sites] or (
        [stall.stack] if stall.stack else [])
    where = tuple(stall.traced_to_all) if stacks else ()
    kind: Kind = "unsampled"
    chosen: Sequence[FrameInfo] = ()
    executor = None
    for stack in stacks:  # the site with most samples that shows more than the loop's machinery
        start, sdk = _thread_start(stack), _sdk_entry(stack)
        if start is not None:
            kind, executor = "thread_start", _executor(stack[:start])
        elif sdk is not None:
            kind = "sdk_on_loop" if sdk.is_async else "sync_sdk"
        elif _in_kit(stack):
            kind = "kit"
        elif last_user_frame(stack) is not None:
            kind = "code"
        else:
            continue
        chosen = stack
        break
    user = last_user_frame(chosen)
    return StallReading(kind, stall.duration_ms, user, _caller(chosen), _sdk_entry(chosen),
                        chosen[-1] if chosen else None, executor, stall.cpu_ms, stall.runqueue_ms,
                        stall.samples, where)


def _is(frame: FrameInfo, place: tuple[str, str]) -> bool:
    return frame.short_path.replace("\\", "/") == place[0] and frame.function == place[1]


def _thread_start(stack: Sequence[FrameInfo]) -> int | None:
    """The index of the outermost thread-start frame of ``stack``, if the thread was in one."""
    return next((i for i, f in enumerate(stack) if f.kind in ("stdlib", "library")
                 and any(_is(f, place) for place in _THREAD_START)), None)


def _executor(above: Sequence[FrameInfo]) -> str | None:
    for place, name in _EXECUTOR_ENTRIES:
        if any(_is(f, place) for f in above):
            return name
    return None


def _in_kit(stack: Sequence[FrameInfo]) -> bool:
    """The frame below the deepest user frame is the kit's own (its monitor, its helpers)."""
    user = last_user_frame(stack)
    below = stack[stack.index(user) + 1:] if user is not None else ()
    return bool(below) and below[0].kind == "kit"


def _sdk_entry(stack: Sequence[FrameInfo]) -> FrameInfo | None:
    """The SDK frame the user's code (or the loop) called into: the first SDK frame below the
    deepest user frame, or the first of the stack when no user frame is above it."""
    user = last_user_frame(stack)
    start = stack.index(user) + 1 if user is not None else 0
    return next((f for f in stack[start:] if f.kind == "sdk"), None)


def _caller(stack: Sequence[FrameInfo]) -> FrameInfo | None:
    """The user's ``async def`` frame whose line made the blocking call: the deepest async user
    frame with only plain (sync) frames below it. None when the stack has no such frame."""
    for frame in reversed(stack):
        if frame.is_async:
            return frame if frame.kind == "user" else None
    return None

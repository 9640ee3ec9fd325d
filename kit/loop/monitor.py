"""The loop monitor: a heartbeat on the event loop and a watchdog thread that samples stalls.

    monitor = LoopMonitor(loop, threshold_ms=20, interval_ms=5)
    monitor.start()            # from any thread; the heartbeat is scheduled on ``loop``
    ...                        # code that may block the loop
    report = monitor.stop()    # LoopReport: stalls with duration, stack, user line, SDK call

The heartbeat is a ``call_later`` chain that stamps ``perf_counter()`` every interval.
The watchdog sleeps until ``threshold_ms`` after the last beat; if the
loop has not ticked by then it samples the loop thread's stack (``sys._current_frames``),
and keeps sampling every ``sample_every_ms`` until the loop ticks again. A stall's duration
is the gap between the two beats around it (so up to one interval longer than the block).
The watchdog never prints, never raises into the loop and holds at most ``max_samples`` samples
per stall and ``max_stalls`` stalls, so it cannot flood a Jupyter kernel.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from kit.loop.frames import FrameInfo, common_prefix, first_sdk_frame, last_user_frame, sample_stack


@dataclass(frozen=True)
class Stall:
    """The loop did not tick for ``duration_ms``; ``user_frame`` is the line that was running."""

    start: float  # perf_counter seconds
    end: float
    stack: tuple[FrameInfo, ...]  # the frames shared by every sample, outermost first
    user_frame: FrameInfo | None
    sdk_frame: FrameInfo | None
    samples: int

    @property
    def duration_ms(self) -> float:
        return (self.end - self.start) * 1000.0

    @property
    def sync_sdk_call(self) -> bool:
        """The loop thread was inside a sync SDK call (the seeds/002 bug), not async SDK code."""
        return self.sdk_frame is not None and not self.sdk_frame.is_async

    @property
    def traced_to(self) -> str:
        """``app.py:42 download_image → storage3/_sync/file_api.py:141 download``."""
        if self.user_frame is None and self.sdk_frame is None:
            if not self.stack:
                return "(not sampled: shorter than the watchdog's first look)"
            return f"(no user or SDK code: loop thread in {self.stack[-1].where})"
        parts = [f.where for f in (self.user_frame, self.sdk_frame) if f is not None]
        return " → ".join(parts)

    def to_dict(self) -> dict[str, object]:
        return {"duration_ms": round(self.duration_ms, 1), "samples": self.samples,
                "user_frame": self.user_frame.to_dict() if self.user_frame else None,
                "sdk_frame": self.sdk_frame.to_dict() if self.sdk_frame else None,
                "sync_sdk_call": self.sync_sdk_call,
                "traced_to": self.traced_to}

    def __repr__(self) -> str:
        return f"<Stall {self.duration_ms:.0f} ms at {self.traced_to}>"


@dataclass
class LoopReport:
    """What a monitor saw: stalls, beats and misses between ``started`` and ``stopped``."""

    threshold_ms: float
    interval_ms: float
    started: float
    stopped: float
    stalls: list[Stall] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)  # perf_counter of each heartbeat tick
    dropped_stalls: int = 0

    @property
    def duration_ms(self) -> float:
        return (self.stopped - self.started) * 1000.0

    @property
    def max_stall_ms(self) -> float:
        return max((s.duration_ms for s in self.stalls), default=0.0)

    @property
    def max_gap_ms(self) -> float:
        """The longest time between two beats, stalls under the threshold included."""
        beats = self.beats
        return max(((b - a) * 1000.0 for a, b in itertools.pairwise(beats)), default=0.0)

    @property
    def total_stall_ms(self) -> float:
        return sum(s.duration_ms for s in self.stalls)

    @property
    def heartbeat_misses(self) -> int:
        """Beats that should have happened during stalls but did not."""
        interval = self.interval_ms / 1000.0
        return sum(max(0, int((s.end - s.start) / interval) - 1) for s in self.stalls)

    def to_dict(self) -> dict[str, object]:
        return {"threshold_ms": self.threshold_ms, "interval_ms": self.interval_ms,
                "duration_ms": round(self.duration_ms, 1), "beats": len(self.beats),
                "heartbeat_misses": self.heartbeat_misses,
                "max_stall_ms": round(self.max_stall_ms, 1), "max_gap_ms": round(self.max_gap_ms, 1),
                "stalls": [s.to_dict() for s in self.stalls], "dropped_stalls": self.dropped_stalls}

    def __repr__(self) -> str:
        return (f"<LoopReport {len(self.stalls)} stalls, max stall {self.max_stall_ms:.0f} ms, "
                f"{self.heartbeat_misses} heartbeat misses in {self.duration_ms:.0f} ms>")

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        from kit.loop.render import render_loop_report_html, render_loop_report_text
        return {"text/plain": render_loop_report_text(self),
                "text/html": render_loop_report_html(self)}


class LoopMonitor:
    """Heartbeat + watchdog for one event loop. ``start()`` and ``stop()`` from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, threshold_ms: float = 20.0,
                 interval_ms: float = 5.0, sample_every_ms: float | None = None,
                 max_samples: int = 64, max_stalls: int = 1000, max_beats: int = 200_000) -> None:
        if threshold_ms <= 0 or interval_ms <= 0:
            from kit.errors import UsageError
            raise UsageError(f"threshold_ms={threshold_ms} and interval_ms={interval_ms} must be "
                             "positive", fix="use e.g. threshold_ms=20, interval_ms=5")
        self.loop = loop
        self.threshold = threshold_ms / 1000.0
        self.interval = interval_ms / 1000.0
        self.sample_every = (sample_every_ms if sample_every_ms is not None else threshold_ms) / 1000.0
        self.max_samples = max_samples
        self.max_stalls = max_stalls
        self._beats: deque[float] = deque(maxlen=max_beats)
        self._stalls: list[Stall] = []
        self._dropped = 0
        self._last_beat = 0.0
        self._loop_thread: int | None = None
        self._beat_posted = False
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._lock = threading.Lock()
        self._started = 0.0
        self._running = False
        self._pending_samples: list[tuple[FrameInfo, ...]] = []
        self._pending_since = 0.0  # the beat before the current stall

    # -- the heartbeat (runs on the loop thread) ----------------------------------------------
    # The watchdog thread posts each beat with call_soon_threadsafe. A call_later heartbeat
    # would keep a timer in the loop's heap, and with any timer there every loop iteration
    # reads the clock: ~5 % on a yield-heavy workload. A posted callback costs the loop nothing
    # between beats.
    def _beat(self) -> None:
        now = time.perf_counter()
        with self._lock:
            self._beat_posted = False
            if not self._running:
                return
            self._beats.append(now)
            gap = now - self._last_beat
            if gap > self.threshold or self._pending_samples:
                self._close_stall(self._last_beat, now)
            self._last_beat = now

    def _install(self) -> None:
        with self._lock:
            self._loop_thread = threading.get_ident()
            self._last_beat = time.perf_counter()

    def _post_beat(self) -> bool:
        """Ask the loop for a beat unless one is already waiting; False once the loop is closed."""
        with self._lock:
            if self._beat_posted or self._loop_thread is None:
                return True
            self._beat_posted = True
        try:
            self.loop.call_soon_threadsafe(self._beat)
        except RuntimeError:  # the loop was closed under us: nothing left to watch
            return False
        return True

    # -- the watchdog (its own daemon thread) ---------------------------------------------------
    def _watch(self) -> None:
        next_beat = time.perf_counter()
        while not self._stop.is_set():
            now = time.perf_counter()
            if now >= next_beat:
                if not self._post_beat():
                    return
                next_beat = now + self.interval
            with self._lock:
                last = self._last_beat
                overdue_at = (last + self.threshold + 0.0005 if not self._pending_samples
                              else now + self.sample_every)
            delay = max(min(overdue_at, next_beat) - time.perf_counter(), 0.0005)
            if self._stop.wait(delay):
                return
            with self._lock:
                if self._loop_thread is None or len(self._pending_samples) >= self.max_samples:
                    continue
                if self._last_beat != last or time.perf_counter() - last <= self.threshold:
                    continue  # the loop ticked meanwhile, or is not late yet
                stack = sample_stack(self._loop_thread)
                if self._last_beat == last:
                    if not self._pending_samples:
                        self._pending_since = last
                    self._pending_samples.append(stack)

    def _close_stall(self, start: float, end: float) -> None:
        samples, self._pending_samples = self._pending_samples, []
        if samples and self._pending_since:
            start = min(start, self._pending_since)
        if len(self._stalls) >= self.max_stalls:
            self._dropped += 1
            return
        shared = common_prefix(samples)
        user = last_user_frame(shared) or (last_user_frame(samples[0]) if samples else None)
        stack = shared if user is None or user in shared else samples[0]
        sdk = first_sdk_frame(samples[0], after=user) if samples else None
        self._stalls.append(Stall(start, end, stack, user, sdk, len(samples)))

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> LoopMonitor:
        """Start beating on the loop and watching it: ``monitor.start()``."""
        if self._running:
            from kit.errors import UsageError
            raise UsageError("this LoopMonitor is already running", fix="stop() it first")
        self._running = True
        self._beat_posted = False
        self._started = time.perf_counter()
        self._last_beat = self._started
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._install()
        else:
            self.loop.call_soon_threadsafe(self._install)
        self._stop.clear()
        self._watchdog = threading.Thread(target=self._watch, name="kit-loop-watchdog", daemon=True)
        self._watchdog.start()
        return self

    def stop(self) -> LoopReport:
        """Stop both; a stall still open (the loop is blocked right now) is closed at this instant."""
        now = time.perf_counter()
        self._running = False
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=1.0)
        with self._lock:
            if self._pending_samples or (self._loop_thread is not None
                                         and now - self._last_beat > self.threshold):
                self._close_stall(self._last_beat, now)
        return self.report(now)

    def report(self, now: float | None = None) -> LoopReport:
        """A snapshot of what was seen so far."""
        with self._lock:
            return LoopReport(self.threshold * 1000, self.interval * 1000, self._started,
                              now if now is not None else time.perf_counter(),
                              list(self._stalls), list(self._beats), self._dropped)

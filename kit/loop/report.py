"""What a loop monitor saw: ``Stall``, ``SchedulingDelay`` and the ``LoopReport`` that holds them.

    report = monitor.stop()
    report.stalls        # [<Stall 212 ms at app.py:42 download_image → storage3/...:141 download>]
    report.delays        # [<SchedulingDelay 31 ms: the loop thread waited 27 ms for a CPU>]
    print(report)        # every stall with its line of code; the delays apart

Values only (``kit.loop.monitor`` makes them); they display themselves through ``kit.loop.render``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from kit.loop.evidence import StallSite
from kit.loop.frames import FrameInfo


@dataclass(frozen=True)
class Stall:
    """The loop thread ran one thing for ``duration_ms``; ``user_frame`` is the line that was running.

    ``sites`` lists each distinct stalling line (deepest user frame and the SDK call it made,
    most samples first; ``user_frame``/``sdk_frame``/``stack`` are the first site's).
    ``cpu_ms`` is the loop thread's CPU time over the stall and ``runqueue_ms`` the time it
    waited for a CPU (None where the kernel does not say); a blocking call such as a sync
    download shows little CPU, a computation shows CPU close to the duration.
    """

    start: float  # perf_counter seconds
    end: float
    stack: tuple[FrameInfo, ...]  # the first sample at the first site, outermost first
    user_frame: FrameInfo | None
    sdk_frame: FrameInfo | None
    samples: int
    sites: tuple[StallSite, ...] = ()
    cpu_ms: float | None = None
    runqueue_ms: float | None = None

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
                return "(not sampled: no sample fell inside it)"
            return f"(no user or SDK code: loop thread in {self.stack[-1].where})"
        parts = [f.where for f in (self.user_frame, self.sdk_frame) if f is not None]
        return " → ".join(parts)

    @property
    def traced_to_all(self) -> list[str]:
        """Each distinct stalling line, most samples first (``[traced_to]`` for one site)."""
        return [site.where for site in self.sites] or [self.traced_to]

    def to_dict(self) -> dict[str, object]:
        return {"duration_ms": round(self.duration_ms, 1), "samples": self.samples,
                "user_frame": self.user_frame.to_dict() if self.user_frame else None,
                "sdk_frame": self.sdk_frame.to_dict() if self.sdk_frame else None,
                "sync_sdk_call": self.sync_sdk_call,
                "traced_to": self.traced_to, "traced_to_all": self.traced_to_all,
                "cpu_ms": _round(self.cpu_ms), "runqueue_ms": _round(self.runqueue_ms)}

    def __repr__(self) -> str:
        more = f" (+{len(self.sites) - 1} more lines)" if len(self.sites) > 1 else ""
        return f"<Stall {self.duration_ms:.0f} ms at {self.traced_to}{more}>"


@dataclass(frozen=True)
class SchedulingDelay:
    """A gap over the threshold while the loop was idle or waiting for a CPU: the machine did not
    run this process, no line of the user's code is to blame.

    ``runqueue_ms``: the loop thread's run-queue wait over the gap (None where unknown);
    ``watchdog_late_ms``: how late the watchdog thread posted the beat (it was not run either);
    ``cpu_ms``: the loop thread's CPU time; ``waiting_samples``: samples showing the loop idle;
    ``idle_ms``: the time the loop waited in its selector (None where not measured).
    """

    start: float
    end: float
    runqueue_ms: float | None
    watchdog_late_ms: float
    cpu_ms: float | None
    waiting_samples: int
    idle_ms: float | None = None

    @property
    def duration_ms(self) -> float:
        return (self.end - self.start) * 1000.0

    @property
    def reason(self) -> str:
        if self.runqueue_ms is not None and self.runqueue_ms >= max(self.watchdog_late_ms, 0.5):
            return f"the loop thread waited {self.runqueue_ms:.0f} ms for a CPU"
        if self.watchdog_late_ms > 0.5:
            return f"the watchdog thread ran {self.watchdog_late_ms:.0f} ms late"
        if self.idle_ms is not None:
            return f"the loop was idle in its selector for {self.idle_ms:.0f} ms"
        return "the loop was idle in its selector"

    def to_dict(self) -> dict[str, object]:
        return {"duration_ms": round(self.duration_ms, 1), "runqueue_ms": _round(self.runqueue_ms),
                "watchdog_late_ms": round(self.watchdog_late_ms, 1), "cpu_ms": _round(self.cpu_ms),
                "waiting_samples": self.waiting_samples, "idle_ms": _round(self.idle_ms),
                "reason": self.reason}

    def __str__(self) -> str:
        return f"the machine did not run this process for {self.duration_ms:.0f} ms ({self.reason})"

    def __repr__(self) -> str:
        return f"<SchedulingDelay {self.duration_ms:.0f} ms: {self.reason}>"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class LoopReport:
    """What a monitor saw: stalls, beats and misses between ``started`` and ``stopped``.

    ``delays`` are gaps over the threshold the machine caused (``SchedulingDelay``), kept apart
    from ``stalls``; ``max_gap_ms`` is the longest gap between beats of any kind, the figure to
    read beside ``threshold_ms`` when there is no stall. ``sampled_by`` says where the stacks came
    from: ``"rt-timer"`` (a POSIX timer's real-time signal, in the loop thread; Linux),
    ``"alarm"`` (a SIGALRM timer, in the loop thread, where there is no POSIX timer; both
    ``kit.loop.alarm``), ``"watchdog"`` (the watchdog thread, which a loaded machine may not run in
    time) or, e.g., ``"rt-timer, then watchdog (SIGRTMIN+30 was taken)"`` when the user's code set
    a handler on the kit's signal (or, for SIGALRM, a timer) during the watch.
    """

    threshold_ms: float
    interval_ms: float
    started: float
    stopped: float
    stalls: list[Stall] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)  # perf_counter of each heartbeat tick
    dropped_stalls: int = 0
    delays: list[SchedulingDelay] = field(default_factory=list)
    sampled_by: str = "watchdog"
    dropped_delays: int = 0  # scheduling delays past ``max_stalls`` (stalls are capped apart)

    @property
    def duration_ms(self) -> float:
        return (self.stopped - self.started) * 1000.0

    @property
    def max_stall_ms(self) -> float:
        return max((s.duration_ms for s in self.stalls), default=0.0)

    @property
    def max_gap_ms(self) -> float:
        """The longest time between two beats (or from the last beat to the stop), stalls under
        the threshold and scheduling delays included."""
        beats = self.beats
        gaps = [(b - a) * 1000.0 for a, b in itertools.pairwise(beats)]
        if beats:
            gaps.append((self.stopped - beats[-1]) * 1000.0)
        return max(gaps + [s.duration_ms for s in self.stalls], default=0.0)

    @property
    def max_delay_ms(self) -> float:
        return max((d.duration_ms for d in self.delays), default=0.0)

    @property
    def not_sampled(self) -> int:
        """Stalls the watchdog took no sample of (so they are traced to no line)."""
        return sum(1 for s in self.stalls if s.samples == 0)

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
                "stalls": [s.to_dict() for s in self.stalls], "dropped_stalls": self.dropped_stalls,
                "not_sampled": self.not_sampled, "max_delay_ms": round(self.max_delay_ms, 1),
                "delays": [d.to_dict() for d in self.delays], "sampled_by": self.sampled_by,
                "dropped_delays": self.dropped_delays}

    def __repr__(self) -> str:
        delays = f", {len(self.delays)} scheduling delays" if self.delays else ""
        return (f"<LoopReport {len(self.stalls)} stalls, max stall {self.max_stall_ms:.0f} ms, "
                f"longest gap {self.max_gap_ms:.1f} ms (threshold {self.threshold_ms:g} ms), "
                f"{self.heartbeat_misses} heartbeat misses{delays} in {self.duration_ms:.0f} ms>")

    def __str__(self) -> str:
        from kit.loop.render import render_loop_report_text
        return render_loop_report_text(self)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        from kit.loop.render import render_loop_report_html, render_loop_report_text
        return {"text/plain": render_loop_report_text(self),
                "text/html": render_loop_report_html(self)}

"""The loop monitor: a heartbeat on the event loop and a watchdog thread that samples stalls.

    monitor = LoopMonitor(loop, threshold_ms=20, interval_ms=5)
    monitor.start()            # from any thread; the heartbeat is scheduled on ``loop``
    ...                        # code that may block the loop
    report = monitor.stop()    # LoopReport: stalls with duration, stack, user line, SDK call

Each beat is a callback posted to the loop (``call_soon_threadsafe``) every interval; it stamps
``perf_counter()``, the loop thread's CPU and run-queue times, its time idle in the selector's
wait (``kit.loop.selector_wait``) and its voluntary context switches. From half the threshold
after the last beat on, while the loop has not beaten, the loop thread's stack is sampled, then
every ``sample_every_ms``. For a loop in the main thread a signal timer ticking in the loop
thread itself posts the beats and takes the samples, on time however loaded the machine is
(``kit.loop.alarm``; ``LoopReport.sampled_by`` is ``"rt-timer"``, a POSIX timer's real-time
signal, or ``"alarm"``, SIGALRM when that is free and there is no POSIX timer); elsewhere a watchdog
thread does both (``sys._current_frames``), when the OS runs it. Samples of a gap that ends under
the threshold are dropped. A gap longer than the threshold is judged on evidence
(``kit.loop.evidence.judge_gap``): the time the loop was busy (the gap less its selector wait),
the loop thread's own CPU time, the kernel's account of its run-queue wait, whether it blocked in
a call, whether the samples show it idle in the selector's wait or running code, and how late the
watchdog posted the beat. It becomes a ``Stall`` (the loop thread ran something: the user's code
or a blocking call) or a ``SchedulingDelay`` (the machine did not run this process; never
reported at a user's line).
A stall's duration is the gap between the two beats around it (so up to one interval longer than
the block); ``LoopReport.max_gap_ms`` is the longest gap of all, stall or not, to read beside
``threshold_ms``.
The watchdog never prints, never raises into the loop and holds at most ``max_samples`` samples
per gap and ``max_stalls`` stalls (and as many delays), so it cannot flood a Jupyter kernel.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque
from types import FrameType

from kit.loop.alarm import SignalTicks, install_ticks
from kit.loop.evidence import (
    ThreadClock,
    ThreadTimes,
    in_loop_machinery,
    judge_gap,
    loop_is_waiting,
    stall_sites,
    voluntary_switches,
)
from kit.loop.frames import FrameInfo, sample_stack, stack_of
from kit.loop.report import LoopReport, SchedulingDelay, Stall
from kit.loop.selector_wait import SelectorWait


def _raise_priority() -> None:
    """Ask for nice -10 for this (the watchdog's) thread where the OS allows it (root or
    CAP_SYS_NICE on Linux): it sleeps almost always, and when the machine is loaded it must
    still wake in time to sample a stall. Refused quietly elsewhere."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10)
    except (OSError, AttributeError):
        pass


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
        self._dropped_delays = 0
        self._last_beat = 0.0
        self._loop_thread: int | None = None
        self._beat_posted = False
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._lock = threading.Lock()
        self._started = 0.0
        self._running = False
        self._pending_samples: list[tuple[FrameInfo, ...]] = []
        self._delays: list[SchedulingDelay] = []
        self._clock: ThreadClock | None = None
        self._last_times: ThreadTimes | None = None
        # The reference probes of scheduling delay, all reset at each beat: how late the watchdog
        # posted the beat that ended the gap; the longest time the watchdog overslept while not
        # even waiting for a CPU (the whole process stopped: SIGSTOP, a VM not run); and the
        # watchdog's own run-queue wait (preempted while holding the GIL, it keeps a woken loop
        # thread waiting, which the loop thread's run-queue figure does not show).
        self._post_late = 0.0
        self._watchdog_frozen = 0.0
        self._watchdog_runqueue = 0.0
        self._watchdog_due: float | None = None  # when the watchdog's current wait should end
        # On a loop in the main thread a signal timer (kit.loop.alarm) ticks in the loop thread
        # itself: it posts the beats and takes the samples, whatever the load; the watchdog then
        # stands by. The selector's wait time says how much of a gap the loop was idle
        # (kit.loop.selector_wait), and the loop thread's voluntary context switches outside that
        # wait whether it blocked in a call.
        self._ticks: SignalTicks | None = None
        self._tick_samples: deque[tuple[float, tuple[FrameInfo, ...]]] = deque()
        self._last_tick_sample = 0.0
        self._selector_wait: SelectorWait | None = None
        self._last_idle = 0.0
        self._last_switches: int | None = None
        self._sampled_by = "watchdog"

    def _check_ticks(self) -> None:
        """Before each selector wait (loop thread): if the user took the ticks' signal (a handler, or a timer
        that replaced the kit's, so the ticks stopped), the watchdog thread takes over."""
        ticks = self._ticks
        if ticks is None or not ticks.active or not ticks.lost(time.perf_counter()):
            return
        if not ticks.still_ours() and self._running:
            self._sampled_by = f"{ticks.name}, then watchdog ({ticks.signal_name} was taken)"
            self._start_watchdog()

    def _start_watchdog(self) -> None:
        self._watchdog = threading.Thread(target=self._watch, name="kit-loop-watchdog", daemon=True)
        self._watchdog.start()

    # -- the heartbeat (runs on the loop thread) ----------------------------------------------
    # The watchdog thread (or the alarm's tick) posts each beat with call_soon_threadsafe. A
    # call_later heartbeat would keep a timer in the loop's heap, and with any timer there every
    # loop iteration reads the clock: ~5 % on a yield-heavy workload. A posted callback costs the
    # loop nothing between beats.
    def _beat(self) -> None:
        now = time.perf_counter()
        times = self._clock.read() if self._clock is not None else None
        wait = self._selector_wait
        idle = wait.idle(now) if wait is not None else None
        switches = voluntary_switches()
        samples = self._drain_ticks()
        with self._lock:
            self._beat_posted = False
            if not self._running:
                return
            self._beats.append(now)
            if now - self._last_beat >= self.threshold:
                # a watchdog still not back from a wait that ended long ago is stuck as well
                stuck = now - self._watchdog_due if self._watchdog_due is not None else 0.0
                self._pending_samples.extend(samples[:self.max_samples - len(self._pending_samples)])
                self._close_gap(self._last_beat, now, times,
                                max(self._post_late, self._watchdog_frozen, stuck)
                                + self._watchdog_runqueue, idle, self._switches_outside(switches))
            self._pending_samples = []
            self._post_late = self._watchdog_frozen = self._watchdog_runqueue = 0.0
            self._last_beat = now
            self._last_times = times
            self._last_switches = switches
            if idle is not None:
                self._last_idle = idle

    def _switches_outside(self, switches: int | None) -> int | None:
        """Voluntary context switches of the loop thread since it last left its selector's wait
        (or since the last beat): it blocked in a call, not only waited for a CPU."""
        wait = self._selector_wait
        if switches is None or self._last_switches is None or wait is None:
            return None
        since = self._last_switches
        if wait.last_wait_end > self._last_beat and wait.switches_after_wait is not None:
            since = wait.switches_after_wait
        return switches - since

    def _tick(self, frame: FrameType | None) -> None:
        """The alarm's tick, in the loop thread between two bytecodes (it may hold the lock: none
        taken here): a sample once the loop is a half threshold late, and the next beat.

        A call the kernel restarts (a blocking ``recv``, ``SA_RESTART``) or a C call holding the
        GIL lets the handler run only once it returns, however many ticks fired meanwhile; that
        one sample then counts for each sample period it covered (as a signal-driven profiler
        charges its late tick to the line that was running), so the line that blocked longest
        has the most samples."""
        now = time.perf_counter()
        last = self._last_beat
        every = self._tick_sample_every
        if now - last >= self.threshold / 2 and now - self._last_tick_sample >= every:
            since = (self._last_tick_sample if self._last_tick_sample > last
                     else last + self.threshold / 2 - every)  # the first look is one period
            covered = max(1.0, (now - since) / every)
            stack = stack_of(frame)
            for _ in range(min(int(covered + 0.5), self.max_samples - len(self._tick_samples))):
                self._tick_samples.append((last, stack))
            self._last_tick_sample = now
        if not self._beat_posted and self._running:
            self._beat_posted = True
            try:
                self.loop.call_soon_threadsafe(self._beat)
            except RuntimeError:
                pass  # the loop is closed: stop() gives the signal back

    @property
    def _tick_sample_every(self) -> float:
        # at most every half threshold; ticks come on the beat's grid, so half a beat early is on time
        return min(self.sample_every, self.threshold / 2) - self.interval / 2

    def _drain_ticks(self) -> list[tuple[FrameInfo, ...]]:
        """The tick samples of the gap now closing (a tick inside a beat belongs to the next)."""
        queue, last = self._tick_samples, self._last_beat
        taken = [queue.popleft() for _ in range(len(queue))]
        return [stack for since, stack in taken if since == last]

    def _install(self) -> None:
        if not self._running:
            return
        clock = ThreadClock.for_current_thread()
        times = clock.read()
        wait = SelectorWait.install(self.loop, before_wait=self._check_ticks)
        with self._lock:
            self._loop_thread = threading.get_ident()
            self._clock = clock
            self._last_times = times
            self._last_beat = now = time.perf_counter()
            self._selector_wait = wait
            self._last_idle = wait.idle(now) if wait is not None else 0.0
            self._last_switches = voluntary_switches()
        ticks = install_ticks(self._tick, every_s=self.interval)
        if ticks is not None:
            self._ticks, self._sampled_by = ticks, ticks.name

    def _uninstall(self) -> None:
        """Give back the ticks' signal and the selector's ``select`` (from any thread)."""
        ticks, wait = self._ticks, self._selector_wait
        self._ticks = self._selector_wait = None
        if ticks is not None:
            ticks.close()
            if threading.current_thread() is not threading.main_thread():
                try:  # signal.signal works only in the main thread: the loop's, here
                    self.loop.call_soon_threadsafe(ticks.close_on_main_thread)
                except RuntimeError:
                    pass  # the loop is closed: the inert handler stays
        if wait is not None:
            wait.close()

    def _post_beat(self, late: float) -> bool:
        """Ask the loop for a beat unless one is already waiting; False once the loop is closed."""
        with self._lock:
            if self._beat_posted or self._loop_thread is None:
                return True
            self._beat_posted = True
            self._post_late = late
        try:
            self.loop.call_soon_threadsafe(self._beat)
        except RuntimeError:  # the loop was closed under us: nothing left to watch
            return False
        return True

    # -- the watchdog (its own daemon thread) ---------------------------------------------------
    def _watch(self) -> None:
        next_beat = time.perf_counter()
        first_look = self.threshold / 2  # early enough that a block just over the threshold is seen
        clock = ThreadClock.for_current_thread()
        _raise_priority()
        try:
            self._watch_with(clock, next_beat, first_look)
        finally:
            clock.close()

    def _watch_with(self, clock: ThreadClock, next_beat: float, first_look: float) -> None:
        previous = clock.read()
        while not self._stop.is_set():
            if self._ticks is not None and self._ticks.active:
                return  # the alarm beats and samples; a thread standing by would contend the GIL
            now = time.perf_counter()
            if now >= next_beat:
                if not self._post_beat(now - next_beat):
                    return
                next_beat = now + self.interval
            with self._lock:
                last = self._last_beat
                overdue_at = (last + first_look if not self._pending_samples
                              else now + self.sample_every)
                wake_at = max(min(overdue_at, next_beat), time.perf_counter() + 0.0005)
                self._watchdog_due = wake_at
            if self._stop.wait(wake_at - time.perf_counter()):
                return
            late = time.perf_counter() - wake_at
            times = clock.read()
            waited = (times.runqueue_s - previous.runqueue_s if times and previous
                      and times.runqueue_s is not None and previous.runqueue_s is not None else 0.0)
            previous = times
            with self._lock:
                self._watchdog_due = None
                self._watchdog_frozen = max(self._watchdog_frozen, late - waited)
                self._watchdog_runqueue += waited
                if self._loop_thread is None or len(self._pending_samples) >= self.max_samples:
                    continue
                if self._last_beat != last or time.perf_counter() - last < first_look:
                    continue  # the loop ticked meanwhile, or is not late yet
                stack = sample_stack(self._loop_thread)
                if self._last_beat == last and stack:
                    self._pending_samples.append(stack)

    def _close_gap(self, start: float, end: float, times: ThreadTimes | None, posted_late: float,
                   idle: float | None, blocked_switches: int | None) -> None:
        """Judge a gap over the threshold (lock held) and keep it as a Stall or a SchedulingDelay."""
        samples, self._pending_samples = self._pending_samples, []
        running = [s for s in samples if not loop_is_waiting(s)]
        before = self._last_times
        cpu = times.cpu_s - before.cpu_s if times and before else None
        runqueue = (times.runqueue_s - before.runqueue_s if times and before
                    and times.runqueue_s is not None and before.runqueue_s is not None else None)
        idle_s = idle - self._last_idle if idle is not None else None
        verdict = judge_gap(gap_s=end - start, threshold_s=self.threshold,
                            running_samples=len(running), waiting_samples=len(samples) - len(running),
                            cpu_s=cpu, runqueue_s=runqueue, watchdog_late_s=posted_late,
                            idle_s=idle_s,
                            code_samples=sum(1 for s in running if not in_loop_machinery(s)),
                            blocked_switches=blocked_switches)
        ms = (lambda v: None if v is None else v * 1000.0)
        if verdict == "descheduled":
            if len(self._delays) >= self.max_stalls:
                self._dropped_delays += 1
            else:
                self._delays.append(SchedulingDelay(start, end, ms(runqueue), posted_late * 1000.0,
                                                    ms(cpu), len(samples) - len(running), ms(idle_s)))
            return
        if len(self._stalls) >= self.max_stalls:
            self._dropped += 1
            return
        sites = stall_sites(running)
        first = sites[0] if sites else None
        self._stalls.append(Stall(start, end, first.stack if first else (),
                                  first.user_frame if first else None,
                                  first.sdk_frame if first else None, len(running), sites,
                                  ms(cpu), ms(runqueue)))

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
        # the watchdog thread first: starting a thread blocks the caller (on a loaded machine for
        # tens of ms), and on the loop that time is the kit's own, not a stall of the user's code
        self._stop.clear()
        self._start_watchdog()
        if on_loop:
            self._install()
        else:
            self.loop.call_soon_threadsafe(self._install)
        return self

    def stop(self) -> LoopReport:
        """Stop both; a stall still open (the loop is blocked right now) is closed at this instant."""
        now = time.perf_counter()
        self._running = False
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=1.0)
        times = self._clock.read() if self._clock is not None else None
        idle = self._selector_wait.idle(now) if self._selector_wait is not None else None
        on_loop = threading.get_ident() == self._loop_thread
        switches = voluntary_switches() if on_loop else None
        samples = self._drain_ticks()
        with self._lock:
            if self._loop_thread is not None and now - self._last_beat >= self.threshold:
                self._pending_samples.extend(samples[:self.max_samples - len(self._pending_samples)])
                self._close_gap(self._last_beat, now, times, 0.0, idle,
                                self._switches_outside(switches))
        self._uninstall()
        with self._lock:
            if self._clock is not None:
                self._clock.close()
        return self.report(now)

    def report(self, now: float | None = None) -> LoopReport:
        """A snapshot of what was seen so far."""
        with self._lock:
            return LoopReport(self.threshold * 1000, self.interval * 1000, self._started,
                              now if now is not None else time.perf_counter(),
                              list(self._stalls), list(self._beats), self._dropped, list(self._delays),
                              self._sampled_by, self._dropped_delays)

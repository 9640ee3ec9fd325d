"""Make the next thread start on the event loop slow, for real and without timing: hold the lock a
new (non-daemon) thread takes before it signals that it runs (CPython 3.10-3.12
``threading._shutdown_locks_lock``, taken in ``Thread._bootstrap_inner`` before ``_started.set()``),
until the loop's thread is seen waiting inside ``Thread.start``, then ``ms`` longer.

    hold_thread_start(threading.get_ident(), ms=60)   # on the loop's thread, before the start
    await asyncio.to_thread(work)                      # its Thread.start waits ~60 ms

Imported by the tests, and copied into the suites the pytest-plugin tests run.
"""

from __future__ import annotations

import sys
import threading
import time


def _in_thread_start(thread_id: int) -> bool:
    frame = sys._current_frames().get(thread_id)
    while frame is not None:
        if frame.f_code.co_name == "start" and frame.f_code.co_filename == threading.__file__:
            return True
        frame = frame.f_back
    return False


def hold_thread_start(thread_id: int, ms: float) -> threading.Thread:
    """Hold the lock from a daemon thread (whose own start does not need it) until the thread
    ``thread_id`` waits inside ``Thread.start``, then ``ms`` milliseconds more."""
    lock = getattr(threading, "_shutdown_locks_lock", None)
    if lock is None:
        raise RuntimeError(f"Python {sys.version_info[:2]} has no threading._shutdown_locks_lock")
    held = threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            deadline = time.monotonic() + 30.0
            while not _in_thread_start(thread_id) and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(ms / 1000.0)

    holder = threading.Thread(target=hold, name="hold-thread-start", daemon=True)
    holder.start()
    held.wait()
    return holder

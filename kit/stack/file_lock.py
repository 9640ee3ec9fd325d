"""Advisory file locks between processes (``flock``: released by the kernel when the holder dies).

    with hold(folder / "start.lock", timeout=60.0, waiting_for="starting the stack in " + str(folder)):
        ...                                   # one process at a time
    with hold(path, timeout=60.0, waiting_for="...", shared=True):
        ...                                   # many readers, no exclusive holder
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kit.errors import StackStartFailed


@contextmanager
def hold(path: Path, timeout: float, waiting_for: str, *, shared: bool = False,
         fix: str | None = None) -> Iterator[None]:
    """Hold an exclusive (or ``shared``) flock on ``path``, polling
    every 10 ms. Raises ``StackStartFailed`` naming ``waiting_for`` after ``timeout`` seconds.

    Each ``hold`` opens its own descriptor: a process that already holds the lock and asks
    again waits for itself, so take it once and pass the work down."""
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StackStartFailed(
                        f"another process has been {waiting_for} for more than {timeout:.0f} s",
                        fix=fix or f"wait for it (the lock is {path})",
                    ) from None
                time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

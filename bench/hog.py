"""A CPU hog for benchmarks that must hold on a busy machine: busy processes, bounded in time.

    with cpu_hog(seconds=120, per_core=2):   # 2 spinning processes per core, each ends itself
        ...                                  # measure here; all are killed on exit
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

SPIN = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


@contextlib.contextmanager
def cpu_hog(seconds: float, per_core: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``per_core`` busy processes per core (``os.cpu_count()``) for at most ``seconds`` each
    (each ends itself even if this process is killed); all are stopped on exit."""
    procs = [subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=seconds)])
             for _ in range((os.cpu_count() or 1) * per_core)]
    try:
        time.sleep(0.3)  # let them start spinning
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()

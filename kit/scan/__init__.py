"""Static scan for sync/async misuse of supabase-py, with client provenance across files.

    result = kit.scan("app/", "notebooks/")     # findings table in a notebook
    result.to_frame()                           # DataFrame view
    python -m kit scan app/ --format sarif      # the same from the command line

``kit.scan`` is this package and is callable: ``kit.scan(path)`` is ``kit.scan.scan(path)``.

Rules (``RULES``): KIT101 await on a sync call · KIT102 sync call in async def · KIT103 async
call never awaited · KIT104 async def that awaits nothing but blocks · KIT105 asyncio.run in a
running loop · KIT106 asyncio.sleep never awaited · KIT107 httpx client of the wrong kind in
client options · KIT108 to_thread given async work.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from kit.scan.engine import scan
from kit.scan.model import RULES, Finding, ParseProblem, Rule, UnknownRule
from kit.scan.result import ScanResult

__all__ = ["RULES", "Finding", "ParseProblem", "Rule", "ScanResult", "UnknownRule", "scan"]


class _CallableModule(types.ModuleType):
    """Lets ``kit.scan(path)`` call :func:`scan` while ``kit.scan.RULES`` still works."""

    def __call__(self, *paths: Any, **options: Any) -> ScanResult:
        return scan(*paths, **options)


sys.modules[__name__].__class__ = _CallableModule

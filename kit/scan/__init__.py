"""Static scan for sync/async misuse of supabase-py, with client provenance across files.

    result = kit.scan("app/", "notebooks/")     # findings table in a notebook
    result.to_frame()                           # DataFrame view
    python -m kit scan app/ --format sarif      # the same from the command line

Rules (``RULES``): KIT101 await on a sync call · KIT102 sync call in async def · KIT103 async
call never awaited · KIT104 async def that awaits nothing but blocks · KIT105 asyncio.run in a
running loop · KIT106 asyncio.sleep never awaited · KIT107 httpx client of the wrong kind in
client options · KIT108 to_thread given async work.
"""

from __future__ import annotations

from kit.scan.engine import scan
from kit.scan.model import RULES, Finding, ParseProblem, Rule, UnknownRule
from kit.scan.result import ScanResult

__all__ = ["RULES", "Finding", "ParseProblem", "Rule", "ScanResult", "UnknownRule", "scan"]

"""The three checkpoint scenarios as code: schema, broken and fixed implementations, checks.

    s = kit.scenarios.storage_download(kit.target("embedded"))     # the scenario's class
    kit.scenarios.storage_download.interface    # what your own implementation= class must provide
    s = kit.scenarios.get("storage_download", kit.target("embedded"))
    kit.scenarios.SCENARIOS      # name -> class
"""

from __future__ import annotations

from typing import Any

from kit.errors import UsageError
from kit.scenarios.base import Names, Scenario, load_implementation
from kit.scenarios.fault_profiles import FAULT_PROFILES, fault_rules, with_latency
from kit.scenarios.interface import Interface, InterfaceError
from kit.scenarios.llm_logging import LlmLoggingScenario
from kit.scenarios.memory_queue import MemoryQueueScenario
from kit.scenarios.source import SourceDiff, source_diff
from kit.scenarios.storage_download import StorageDownloadScenario

SCENARIOS: dict[str, type[Scenario]] = {
    "storage_download": StorageDownloadScenario,
    "memory_queue": MemoryQueueScenario,
    "llm_logging": LlmLoggingScenario,
}

__all__ = ["FAULT_PROFILES", "SCENARIOS", "Interface", "InterfaceError", "LlmLoggingScenario",
           "MemoryQueueScenario", "Names",
           "Scenario", "SourceDiff", "StorageDownloadScenario", "fault_rules", "get",
           "llm_logging", "load_implementation", "memory_queue", "source_diff", "storage_download",
           "with_latency"]


def get(name: str, target: Any) -> Scenario:
    """A scenario by name for a target: ``kit.scenarios.get("memory_queue", target)``."""
    if name not in SCENARIOS:
        raise UsageError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}",
                         fix="pick one of the known scenario names")
    return SCENARIOS[name](target)


# ``kit.scenarios.<name>(target)`` builds the scenario; ``kit.scenarios.<name>.interface``
# documents what a user's class must provide. (These names replace the submodules' on the package.)
storage_download = StorageDownloadScenario
memory_queue = MemoryQueueScenario
llm_logging = LlmLoggingScenario

"""What a scenario expects of a user's class: documented, and checked before anything runs."""

from __future__ import annotations

import pytest

import kit
from kit.scenarios import InterfaceError
from kit.targets import Target


class NoDownload:
    def __init__(self, supabase: object) -> None:
        self.supabase = supabase

    async def get_image_as_base64(self, storage_path: str) -> str:
        return ""

    def upload_generated_ad(self, name: str, data: bytes, content_type: str) -> str:
        return name


class WrongArguments(NoDownload):
    async def download_image(self) -> bytes:
        return b""


class SetInInit:
    """Methods given in __init__ (bound from another object) count too."""

    def __init__(self, supabase: object) -> None:
        self.download_image = self.get_image_as_base64 = lambda storage_path: b""
        self.upload_generated_ad = lambda name, data, content_type: name


def test_each_scenario_documents_its_interface() -> None:
    storage = kit.scenarios.storage_download.interface
    assert repr(storage) == "<Interface storage_download: download_image, get_image_as_base64, upload_generated_ad>"
    assert "    [async] def download_image(self, storage_path: str) -> bytes: ...   # exact bytes" in str(storage)
    assert "<td><code>_log_llm(self, chat_id: str, usage: Usage) -&gt; None</code></td>" in \
        kit.scenarios.llm_logging.interface._repr_mimebundle_()["text/html"]
    assert [m.name for m in kit.scenarios.memory_queue.interface.methods] == [
        "request_update", "claim", "complete", "get_memory"]


def test_a_missing_method_is_named_before_anything_runs(stack: Target) -> None:
    scenario = kit.scenarios.storage_download(stack)
    with pytest.raises(AttributeError) as missing:
        scenario.implementation(NoDownload)
    assert isinstance(missing.value, InterfaceError) and isinstance(missing.value, kit.KitError)
    assert str(missing.value) == (
        "'NoDownload' has no 'download_image'. Fix: add `def download_image(self, storage_path: "
        "str) -> bytes` (sync or async) to NoDownload; see kit.scenarios.storage_download.interface")
    with pytest.raises(InterfaceError, match=r"^WrongArguments.download_image\(self\) cannot take "
                                             r"the scenario's arguments \(storage_path\)"):
        scenario.implementation(WrongArguments)
    assert scenario.implementation(SetInInit) is SetInInit
    assert scenario.implementation("to_thread") is scenario.implementations["to_thread"]
    scenario.close()

"""The scanner's supabase-py facts (kit.scan.sdk) hold for the installed packages."""

from __future__ import annotations

import importlib
import inspect

import pytest
import supabase
from postgrest._async.request_builder import AsyncQueryRequestBuilder
from postgrest._sync.request_builder import SyncQueryRequestBuilder
from storage3._async.bucket import AsyncStorageBucketAPI
from storage3._async.file_api import AsyncBucketActionsMixin
from storage3._sync.bucket import SyncStorageBucketAPI
from storage3._sync.file_api import SyncBucketActionsMixin
from supabase_auth._async.gotrue_admin_api import AsyncGoTrueAdminAPI
from supabase_auth._async.gotrue_client import AsyncGoTrueClient
from supabase_auth._async.gotrue_mfa_api import AsyncGoTrueMFAAPI
from supabase_auth._sync.gotrue_admin_api import SyncGoTrueAdminAPI
from supabase_auth._sync.gotrue_client import SyncGoTrueClient
from supabase_auth._sync.gotrue_mfa_api import SyncGoTrueMFAAPI
from supabase_functions._async.functions_client import AsyncFunctionsClient
from supabase_functions._sync.functions_client import SyncFunctionsClient

from kit.scan import sdk

PAIRS = [  # (async class, sync class, the scanner's table for them)
    (AsyncBucketActionsMixin, SyncBucketActionsMixin, sdk.STORAGE_FILE_IO | sdk.STORAGE_ASYNC_ONLY),
    (AsyncStorageBucketAPI, SyncStorageBucketAPI, sdk.STORAGE_BUCKET_IO),
    (AsyncGoTrueClient, SyncGoTrueClient, sdk.AUTH_IO | sdk.AUTH_ASYNC_ONLY),
    (AsyncGoTrueAdminAPI, SyncGoTrueAdminAPI, sdk.AUTH_IO | sdk.AUTH_ASYNC_ONLY),
    (AsyncGoTrueMFAAPI, SyncGoTrueMFAAPI, sdk.AUTH_IO),
    (AsyncFunctionsClient, SyncFunctionsClient, sdk.FUNCTIONS_IO),
    (AsyncQueryRequestBuilder, SyncQueryRequestBuilder, frozenset({"execute"})),
]


def _public_coroutines(cls: type) -> set[str]:
    return {name for name, member in inspect.getmembers(cls)
            if not name.startswith("_") and inspect.iscoroutinefunction(member)}


@pytest.mark.parametrize("async_cls,sync_cls,table", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_every_async_io_method_is_known_and_sync_twins_are_plain(
        async_cls: type, sync_cls: type, table: frozenset[str]) -> None:
    coroutines = _public_coroutines(async_cls)
    assert coroutines - table == set(), "async methods the scanner does not know"
    assert _public_coroutines(sync_cls) == set()
    for name in coroutines:
        assert callable(getattr(sync_cls, name)), f"{sync_cls.__name__}.{name} missing"


def _lookup(dotted: str) -> object | None:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            value = getattr(value, name, None)
        return value
    return None


def test_library_table_matches_supabase() -> None:
    checked = 0
    for dotted, obj in sdk.LIBRARY.items():
        value = _lookup(dotted)
        if value is None:
            continue  # trio is not installed; SyncClient is a name of other 2.x releases
        if obj.kind == "afunc":
            assert inspect.iscoroutinefunction(value), dotted
        elif obj.kind in ("func", "class"):
            assert not inspect.iscoroutinefunction(value), dotted
        if obj.kind == "class" and obj.makes in ("sync_client", "async_client"):
            assert value is (supabase.Client if obj.makes == "sync_client" else supabase.AsyncClient)
        checked += 1
    assert checked >= 30


def test_classify_op_examples() -> None:
    assert sdk.classify_op(["table", "select", "eq", "execute"]) == "execute"
    assert sdk.classify_op(["storage", "from_", "download"]) == "storage.download"
    assert sdk.classify_op(["auth", "admin", "list_users"]) == "auth.admin.list_users"
    assert sdk.classify_op(["storage", "download"]) == ""
    assert sdk.classify_op(["table", "select"]) == ""
    assert not sdk.blocks_when_sync("storage.get_public_url")
    assert sdk.blocks_when_sync("storage.download")


_SYNC_HOMES = {"auth": SyncGoTrueClient, "auth.admin": SyncGoTrueAdminAPI,
               "storage": SyncBucketActionsMixin, "functions": SyncFunctionsClient}


def _annotation_name(annotation: object) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    names = []
    for part in str(text).split("|"):
        part = part.strip().split("[", 1)[0].rsplit(".", 1)[-1]
        names.append({"NoneType": "None", "List": "list", "Dict": "dict"}.get(part, part))
    return " | ".join(names)


@pytest.mark.parametrize("op", sorted(sdk.RESULT_NAMES))
def test_result_names_match_the_sync_annotations(op: str) -> None:
    home, _, method = op.rpartition(".")
    annotation = inspect.signature(getattr(_SYNC_HOMES[home], method)).return_annotation
    assert _annotation_name(annotation) == sdk.RESULT_NAMES[op]


def test_builder_names_match_the_classes_postgrest_returns() -> None:
    client = supabase.create_client("http://127.0.0.1:9", "key")
    table = client.table("t")
    for chain, built in ((["table"], table), (["table", "select", "eq"], table.select("*").eq("a", 1)),
                         (["table", "insert"], table.insert({})),
                         (["table", "select", "single"], table.select("*").single()),
                         (["table", "select", "maybe_single"], table.select("*").maybe_single()),
                         (["rpc", "eq"], client.rpc("f", {}).eq("a", 1))):
        assert "Sync" + sdk.builder_name(chain) == type(built).__name__, chain

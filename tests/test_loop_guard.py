"""The await guard: a kit error naming the line instead of the bare TypeError, reversibly."""

from __future__ import annotations

import inspect
import threading

import pytest
from postgrest.base_request_builder import APIResponse, SingleAPIResponse

import kit
from kit.loop import AwaitOnSyncResult, await_guard, await_guard_active
from kit.loop.guard import _guarded_classes


def _response() -> SingleAPIResponse:
    return SingleAPIResponse(data={"id": 1}, count=None)


async def test_guarded_await_names_the_line_and_both_fixes() -> None:
    response = _response()
    with await_guard():
        with pytest.raises(AwaitOnSyncResult) as caught:
            await response  # type: ignore[misc]
        line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
    err = caught.value
    assert isinstance(err, TypeError) and isinstance(err, kit.KitError)
    assert err.result_type == "SingleAPIResponse"
    assert err.call_site is not None and err.call_site.lineno == line
    assert err.call_site.function == "test_guarded_await_names_the_line_and_both_fixes"
    assert "await response" in str(err)
    assert "acreate_client" in str(err) and "asyncio.to_thread" in str(err)


async def test_the_guard_is_restored_on_exit() -> None:
    classes = _guarded_classes()
    assert [c.__name__ for c in classes] == ["APIResponse", "UploadResponse", "AuthResponse",
                                             "UserResponse"]
    with await_guard():
        assert all("__await__" in c.__dict__ for c in classes)
        assert await_guard_active()
    assert not any("__await__" in c.__dict__ for c in classes)
    assert not await_guard_active()
    with pytest.raises(TypeError, match="can't be used in 'await' expression") as caught:
        await _response()  # type: ignore[misc]
    assert not isinstance(caught.value, kit.KitError)


def test_enable_disable_by_hand_nested_and_in_threads() -> None:
    guard = await_guard()
    guard.enable()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(200):
                with await_guard():
                    assert await_guard_active()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert "__await__" in APIResponse.__dict__  # still on: the outer enable holds it
    guard.disable()
    assert "__await__" not in APIResponse.__dict__
    with pytest.raises(kit.UsageError, match="not enabled"):
        guard.disable()


async def test_guard_with_a_real_sync_client(service_client, sql, unique) -> None:
    table = f"guard_{unique}"
    sql(f"create table public.{table} (id int primary key, note text)")
    sql(f"insert into public.{table} values (1, 'x')")
    sql("notify pgrst, 'reload schema'")
    with await_guard(), pytest.raises(AwaitOnSyncResult, match=r"test_loop_guard.py:\d+") as caught:
        await service_client.table(table).select("*").eq("id", 1).single().execute()
    assert caught.value.result_type == "SingleAPIResponse"
    assert ".single().execute()" in str(caught.value)


async def test_guard_on_a_real_sync_storage_upload(service_client, unique) -> None:
    bucket = f"guard-{unique}"
    service_client.storage.create_bucket(bucket)
    with await_guard(), pytest.raises(AwaitOnSyncResult, match="UploadResponse") as caught:
        await service_client.storage.from_(bucket).upload("a.txt", b"hello",
                                                          {"content-type": "text/plain"})
    assert caught.value.call_site is not None
    assert caught.value.call_site.function == "test_guard_on_a_real_sync_storage_upload"
    assert service_client.storage.from_(bucket).download("a.txt") == b"hello"

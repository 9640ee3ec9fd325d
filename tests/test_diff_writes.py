"""Diffs of operations that write: rolled back on the embedded stack, uploads under kit_ names
and removed, generated values masked, writes refused on a user's project (real clients)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import kit
from kit.diff.writes import intent_of
from kit.targets import Target

CORRECT = ("sync", "async", "blocking", "to_thread")


@pytest.fixture
def notes(sql: Callable[..., Any], unique: str) -> str:
    name = f"notes_{unique}"
    sql(f"CREATE TABLE {name} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text NOT NULL, "
        "n bigserial, at timestamptz NOT NULL DEFAULT now())")
    sql(f"INSERT INTO {name} (body) VALUES ('keep-1'), ('keep-2'), ('gone')")
    sql("NOTIFY pgrst, 'reload schema'")
    return name


def _count(sql: Callable[..., Any], table: str) -> int:
    return sql(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_insert_at_concurrency_4_leaves_no_row_and_modes_agree(stack: Target, sql: Any, notes: str) -> None:
    report = kit.diff(lambda c: c.table(notes).insert({"body": "new"}).execute(), target=stack,
                      concurrency=4)
    assert _count(sql, notes) == 3  # the three seeded rows, nothing from 4 copies × 5 modes
    assert all(report[m].equal_to_baseline is not False for m in CORRECT), report.verdict
    assert set(report.masks.fields) == {"id", "n", "at"}
    assert "not sent in the insert into table" in report.masks.text()
    for mode in ("sync", "async", "blocking", "to_thread", "await_sync"):
        writes = report[mode].writes
        assert [str(w) for w in writes] == [f"insert table '{notes}' HTTP 201, rolled back"] * 4
    assert report["unawaited"].writes == []
    assert "20 of 20 database writes rolled back" in report.verdict
    summary = report.summary()
    assert summary["masked"].keys() == {"id", "n", "at"}
    assert summary["modes"][0]["writes"][0].endswith("rolled back")


@pytest.mark.parametrize("case", ["missing table", "not null violated"])
def test_a_refused_write_is_said_to_have_written_nothing(stack: Target, sql: Any, notes: str,
                                                         case: str) -> None:
    table, row = (f"{notes}_absent", {"body": "x"}) if case == "missing table" else (notes, {"body": None})
    report = kit.diff(lambda c: c.table(table).insert(row).execute(), target=stack, concurrency=2)
    assert _count(sql, notes) == 3
    writes = [w for m in CORRECT for w in report[m].writes]
    assert writes and all(str(w).endswith("failed (nothing written)") for w in writes), writes
    assert "committed" not in report.verdict, report.verdict
    assert f"{len(writes) + 2} of {len(writes) + 2} database writes failed" in report.verdict


def test_delete_and_update_see_the_same_starting_state(stack: Target, sql: Any, notes: str) -> None:
    deleted = kit.diff(lambda c: c.table(notes).delete().like("body", "keep-%").execute(),
                       target=stack, modes="sync,async,to_thread")
    assert [len(r.value.data) for r in deleted] == [2, 2, 2] and not deleted.failed
    updated = kit.diff(lambda c: c.table(notes).update({"body": "x"}).eq("body", "gone").execute(),
                       target=stack, modes=["sync", "async"])
    assert not updated.failed and not updated.masks.fields  # an update answers what it was sent
    assert sorted(r[0] for r in sql(f"SELECT body FROM {notes}").fetchall()) == ["gone", "keep-1", "keep-2"]


def test_uploads_go_under_kit_names_and_are_removed(stack: Target, unique: str) -> None:
    bucket = f"shots-{unique}"
    admin = kit.clients(stack).sync
    admin.storage.create_bucket(bucket)
    report = kit.diff(lambda c: c.storage.from_(bucket).upload("day/one.png", b"\x89PNG-bytes",
                                                               {"content-type": "image/png"}),
                      target=stack, modes="sync,async,to_thread", concurrency=2)
    assert not report.failed, report.verdict
    assert report["async"].equal_to_baseline
    sent = [ex.url for ex in report.capture]
    assert all("/day/kit_" in url for url in sent) and len(sent) == 6
    assert [str(w) for w in report["sync"].writes] == [
        f"upload object '{bucket}/day/one.png' HTTP 200, under a kit_ name"] * 2
    assert len(report["to_thread"].removed) == 2
    assert admin.storage.from_(bucket).list("day") == []
    assert "6 objects uploaded under kit_ names and removed" in report.verdict


def test_a_forgotten_execute_is_said_in_the_verdict(stack: Target, notes: str) -> None:
    report = kit.diff(lambda c: c.table(notes).select("*"), target=stack, modes="sync,async")
    assert report.verdict == ("the operation returns a SyncSelectRequestBuilder, not a response: "
                              "it never calls .execute(), so no request was sent; end the "
                              "operation with .execute().")
    assert not report.checks.passed
    assert len(report.capture) == 0


def test_local_target_refuses_writes_to_what_the_kit_did_not_create(stack: Target, sql: Any,
                                                                    notes: str) -> None:
    local = kit.target("local", env={"API_URL": stack.url, "SERVICE_ROLE_KEY": stack.service_role_key})
    with pytest.raises(kit.UsageError) as refused:
        kit.diff(lambda c: c.table(notes).delete().neq("body", "").execute(), target=local)
    assert str(refused.value) == (
        f"refusing to write (delete) to table '{notes}' on the local target {stack.url}: the kit "
        "writes only to what it created (kit_ names). Fix: pass allow_writes=True (a notebook "
        "and profile parameter) to let it write there")
    assert _count(sql, notes) == 3
    allowed = kit.diff(lambda c: c.table(notes).insert({"body": "y"}).execute(), target=local,
                       allow_writes=True, modes="sync,async")
    assert not allowed.failed and _count(sql, notes) == 3


def test_write_intents_from_method_path_and_prefer() -> None:
    assert intent_of("GET", "http://h/rest/v1/t?select=*") is None
    assert intent_of("POST", "http://h/rest/v1/t", [("Prefer", "resolution=merge-duplicates")]).action == "upsert"
    assert intent_of("POST", "http://h/rest/v1/rpc/f").subject == "function 'f'"
    assert intent_of("POST", "http://h/storage/v1/object/list/b") is None
    assert intent_of("POST", "http://h/storage/v1/object/sign/b/x.png") is None
    assert intent_of("DELETE", "http://h/storage/v1/object/b").action == "remove"
    assert intent_of("POST", "http://h/storage/v1/object/move").action == "move"
    assert intent_of("PUT", "http://h/storage/v1/bucket/b").subject == "bucket 'b'"
    assert intent_of("PUT", "http://h/storage/v1/object/upload/sign/b/x?token=t").action == "upload"


def test_read_after_upload_finds_the_modes_copy_and_upsert_keeps_the_name(stack: Target,
                                                                          unique: str) -> None:
    bucket = f"mine-{unique}"
    admin = kit.clients(stack).sync
    admin.storage.create_bucket(bucket)

    def upload_then_download(c: Any) -> Any:
        c.storage.from_(bucket).upload("in.txt", b"hello", {"content-type": "text/plain"})
        return c.storage.from_(bucket).download("in.txt")

    report = kit.diff(upload_then_download, target=stack, modes="sync,to_thread,blocking")
    assert [r.value for r in report] == [b"hello"] * 3 and not report.failed
    assert admin.storage.from_(bucket).list() == []
    kept = kit.diff(lambda c: c.storage.from_(bucket).upload("keep.txt", b"v", {"content-type": "text/plain"}),
                    target=stack, modes="sync,to_thread", storage_names="upsert")
    assert not kept.failed and kept["to_thread"].removed == [f"{bucket}/keep.txt"]  # absent before: the kit's
    assert admin.storage.from_(bucket).list() == []
    assert "2 objects uploaded under their own names (absent before the diff) and removed" in kept.verdict
    assert all("/keep.txt" in ex.url and "kit_" not in ex.url for ex in kept.capture)  # the probe is not captured
    admin.storage.from_(bucket).upload("there.txt", b"old", {"content-type": "text/plain"})
    over = kit.diff(lambda c: c.storage.from_(bucket).upload("there.txt", b"new", {"content-type": "text/plain"}),
                    target=stack, modes="sync,async", storage_names="upsert")
    assert not over.failed and over["async"].removed == []  # the kit's own stack: overwritten, left
    assert admin.storage.from_(bucket).download("there.txt") == b"new"


def test_upsert_on_a_users_project_removes_what_it_created_and_never_touches_what_was_there(
        stack: Target, unique: str) -> None:
    local = kit.target("local", env={"API_URL": stack.url, "SERVICE_ROLE_KEY": stack.service_role_key})
    admin = kit.clients(stack).sync
    ours, theirs = f"kit_up_{unique}", f"photos-{unique}"
    for bucket in (ours, theirs):
        admin.storage.create_bucket(bucket)
        admin.storage.from_(bucket).upload("mine.txt", b"original", {"content-type": "text/plain"})

    def upload(bucket: str, name: str) -> Any:
        return lambda c: c.storage.from_(bucket).upload(name, b"kit", {"content-type": "text/plain"})

    fresh = kit.diff(upload(theirs, "new.txt"), target=local, modes="sync,async,to_thread",
                     concurrency=2, storage_names="upsert", allow_writes=True)  # a name of the user's
    assert not fresh.failed, fresh.verdict
    assert [o["name"] for o in admin.storage.from_(theirs).list()] == ["mine.txt"]
    assert fresh["async"].removed == [f"{theirs}/new.txt"]
    for bucket, allow in ((ours, False), (theirs, True)):
        with pytest.raises(kit.UsageError) as refused:
            kit.diff(upload(bucket, "mine.txt"), target=local, modes="sync,async",
                     storage_names="upsert", allow_writes=allow)
        assert str(refused.value).startswith(
            f"refusing to upload object '{bucket}/mine.txt' under its own name "
            f"(storage_names='upsert') on the local target {stack.url}: it existed before the diff")
        assert "\n" not in str(refused.value) and "storage_names='rename'" in str(refused.value)
        assert admin.storage.from_(bucket).download("mine.txt") == b"original"

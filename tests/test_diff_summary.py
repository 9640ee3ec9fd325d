"""The DiffReport's one-line summary says what the verdict says: modes that failed alike are one
failure, not a sync/async difference; different data is not a failure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from public_tables import public_table
from supabase import Client

import kit
from kit.diff.report import summary_line
from kit.targets import Target


@pytest.fixture(scope="module")
def items(stack: Target, db_url: str) -> Iterator[str]:
    with public_table(db_url, "items", "id int primary key, name text",
                      "insert into {t} values (1, 'one'), (2, 'two')") as table:
        yield table


def test_every_mode_failing_alike_is_one_failure(stack: Target, items: str) -> None:
    typo = items.replace("items_", "itemz_")
    report = kit.diff(lambda c: c.table(typo).update({"name": "x"}).eq("id", 1).execute(),
                      target=stack)
    line = summary_line(report)
    # unawaited sent nothing (its demonstration); the five that ran the call failed alike
    assert "1 bug mode broke as it demonstrates (unawaited)" in line
    assert "the other 5 failed the same way: APIError 404 PGRST205" in line
    assert "sync, async" not in line and "failed (" not in line
    assert report.verdict.startswith("sync, async, blocking, to_thread and await_sync all raise "
                                     "APIError 404 PGRST205 (the same failure in every one)")
    three = kit.diff(lambda c: c.table(typo).select("*").execute(), target=stack,
                     modes=["sync", "async", "to_thread"])
    assert summary_line(three).startswith("3 modes, all 3 failed the same way: APIError 404 PGRST205,")


def test_modes_that_fail_differently_are_grouped_by_how(stack: Target, items: str) -> None:
    typo = items.replace("items_", "itms_")

    def operation(c):  # the sync client asks for a missing table, the async one for a missing column
        if isinstance(c, Client):
            return c.table(typo).select("*").execute()
        return c.table(items).select("nope").execute()

    report = kit.diff(operation, target=stack, modes=["sync", "async", "to_thread"])
    line = summary_line(report)
    assert ("3 failed: sync, to_thread with APIError 404 PGRST205; async with APIError 400 42703"
            in line), line
    assert "the same way" not in line


def test_different_data_is_not_a_failure(stack: Target, items: str) -> None:
    def operation(c):  # the async client reads another row: every call succeeds
        row = 1 if isinstance(c, Client) else 2
        return c.table(items).select("*").eq("id", row).execute()

    report = kit.diff(operation, target=stack, modes=["sync", "async", "to_thread"])
    line = summary_line(report)
    assert "1 returns different data (async)" in line and "failed" not in line
    assert "async returns different data" in report.verdict

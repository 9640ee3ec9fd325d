"""kit.diff with the real clients against the embedded stack: each mode does what the facts say."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import kit
from kit.diff.render import render_report_text
from kit.targets import Target

BUCKET = f"diff-{uuid.uuid4().hex[:8]}"
OBJECT = "big.bin"
PAYLOAD = os.urandom(3_000_000)  # a few MB, so one sync download visibly freezes the loop


@pytest.fixture(scope="module")
def chats(stack: Target, db_url: str) -> Iterator[str]:
    table = f"chats_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"create table public.{table} (id int primary key, user_id text)")
        conn.execute(f"insert into public.{table} values (1, 'user-1'), (2, 'user-2')")
    yield table
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"drop table public.{table}")


@pytest.fixture(scope="module")
def stored_object(stack: Target) -> Iterator[str]:
    c = kit.clients(stack)
    c.sync.storage.create_bucket(BUCKET, options={"public": False})
    c.sync.storage.from_(BUCKET).upload(OBJECT, PAYLOAD, {"content-type": "application/octet-stream"})
    c.close()
    yield OBJECT


@pytest.fixture(scope="module")
def select_report(stack: Target, chats: str) -> kit.DiffReport:
    return kit.diff(lambda c: c.table(chats).select("user_id").eq("id", 1).single().execute(),
                    target=stack)


def test_table_select_in_every_mode(select_report: kit.DiffReport) -> None:
    r = select_report
    assert r.modes == list(kit.MODES)
    for mode in ("sync", "async", "blocking", "to_thread"):
        assert r[mode].outcome == "value", r[mode]
        assert r[mode].value.data == {"user_id": "user-1"}
        assert [ex.status for ex in r[mode].exchanges] == [200]
    assert [r[m].equal_to_baseline for m in ("async", "blocking", "to_thread")] == [True] * 3
    assert type(r["await_sync"].error) is TypeError
    assert str(r["await_sync"].error) == "object SingleAPIResponse can't be used in 'await' expression"
    assert len(r["await_sync"].exchanges) == 1  # the sync call ran; only the await failed
    unawaited = r["unawaited"]
    assert unawaited.outcome == "coroutine" and len(unawaited.exchanges) == 0
    assert unawaited.warnings == ["coroutine 'AsyncSingleRequestBuilder.execute' was never awaited"]
    assert "unawaited_coroutine" in unawaited.flags
    assert r["await_sync"].explanation.explainer == "await_on_sync_result"
    assert unawaited.explanation.explainer == "coroutine_never_awaited"
    assert r["to_thread"].explanation is None
    assert {c.name: c.passed for c in r.checks}["to_thread equals baseline"]
    assert r.checks["await_sync raises TypeError"].passed
    assert r.checks["unawaited returns a coroutine and sends no request"].passed
    assert r.verdict.startswith("sync, async, blocking and to_thread return the same data; "
                                "await_sync raises TypeError; unawaited returns a coroutine")


def test_report_views(select_report: kit.DiffReport, stack: Target) -> None:
    r = select_report
    passed = len(r.checks) - len(r.checks.failed)
    assert repr(r).startswith("<DiffReport 6 modes, 2 bug modes broke as they demonstrate (await_sync, "
                              f"unawaited), checks {passed}/{len(r.checks)} passed, ")
    assert str(r) == render_report_text(r) and str(r).count("\n") > len(r.rows)
    frame = r.to_frame()
    assert list(frame.index) == list(kit.MODES)
    assert frame.loc["await_sync", "exception_type"] == "TypeError"
    assert frame.loc["unawaited", "exchanges"] == 0
    summary = r.summary()
    text = json.dumps(summary)
    assert summary["modes"][0]["mode"] == "sync" and summary["versions"]["supabase"].startswith("2.34")
    bundle = r._repr_mimebundle_()
    for shown in (text, bundle["text/html"], bundle["text/plain"]):
        assert stack.service_role_key not in shown and stack.anon_key not in shown
    assert "<details>" in bundle["text/html"] and "Verdict:" in bundle["text/html"]
    assert "An async call was not awaited" in bundle["text/html"]
    import matplotlib
    matplotlib.use("Agg")
    figure = r.plot()
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == list(reversed(kit.MODES))
    figures = r.checks["to_thread keeps sync SDK calls off the loop"].figures
    assert figures["threshold_ms"] == 20.0 and figures["max_gap_ms"] == round(r["to_thread"].loop.max_gap_ms, 1)
    title = figure.axes[0].get_title(loc="left")
    assert title.startswith("How each of 6 modes used the event loop: ") and title.endswith(" ms).")
    figure.canvas.draw()
    legend, plot_area = figure.legends[0].get_window_extent(), figure.axes[0].get_window_extent()
    assert not legend.overlaps(plot_area) and legend.y1 <= plot_area.y0  # below, never on the data


def download_blocking_line() -> int:
    return inspect.currentframe().f_back.f_lineno  # type: ignore[union-attr]


def test_storage_download_blocking_stall_traced_to_the_line(stack: Target, stored_object: str) -> None:
    def op(c: Any) -> bytes:
        return c.storage.from_(BUCKET).download(stored_object)  # the line stalls are traced to
    line = inspect.getsourcelines(op)[1] + 1
    r = kit.diff(op, target=stack, modes="sync,blocking,to_thread,await_sync", concurrency=4)
    assert [r[m].equal_to_baseline for m in ("blocking", "to_thread")] == [True, True]
    assert r["sync"].value == PAYLOAD and r["sync"].copies == "4× value"
    assert str(r["await_sync"].error) == "object bytes can't be used in 'await' expression"
    stalls = [s for s in r["blocking"].stalls if s.sync_sdk_call]
    assert stalls, r["blocking"].stalls
    worst = max(stalls, key=lambda s: s.duration_ms)
    assert (os.path.basename(worst.user_frame.filename), worst.user_frame.lineno) == ("test_diff.py", line)
    assert (worst.sdk_frame.short_path, worst.sdk_frame.function) == ("storage3/_sync/file_api.py",
                                                                      "download")
    assert not [s for s in r["to_thread"].stalls if s.sync_sdk_call]
    assert r.checks["to_thread keeps sync SDK calls off the loop"].passed
    assert r["blocking"].explanation.explainer == "event_loop_blocked"
    assert "blocking stalls the event loop up to" in r.verdict
    freeze = r.checks["blocking freezes the loop ≥ 0.8 × call latency"]  # the longest gap: delays too
    assert freeze.passed and "scheduling delay" not in freeze.detail  # a real stall was traced here


class BrokenDownloads:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def download_image(self, path: str) -> bytes:
        return self.client.storage.from_(BUCKET).download(path)  # sync call inside async def


class FixedDownloads(BrokenDownloads):
    async def download_image(self, path: str) -> bytes:
        return await asyncio.to_thread(self.client.storage.from_(BUCKET).download, path)


async def test_service_variants_from_async_code(stack: Target, stored_object: str) -> None:
    r = await kit.adiff(service_factory={"broken": lambda clients: BrokenDownloads(clients.sync),
                                         "fixed": lambda clients: FixedDownloads(clients.sync)},
                        call=lambda service: service.download_image(stored_object),
                        target=stack, concurrency=4)
    assert r.modes == ["broken", "fixed"] and r.baseline == "broken"
    assert r["fixed"].equal_to_baseline and r["broken"].value == PAYLOAD
    broken = [s for s in r["broken"].stalls if s.sync_sdk_call]
    assert broken and broken[0].user_frame.function == "download_image"
    assert "storage.from_(BUCKET).download(path)" in broken[0].user_frame.source_line
    assert r.checks["fixed keeps sync SDK calls off the loop"].passed
    assert not r.checks["broken keeps sync SDK calls off the loop"].passed


def test_await_guard_option_names_the_line(stack: Target, chats: str) -> None:
    r = kit.diff(lambda c: c.table(chats).select("*").execute(), target=stack,
                 modes="sync,async,await_sync", await_guard=True)
    assert r["async"].equal_to_baseline  # awaiting the AsyncClient's coroutine is untouched
    error = r["await_sync"].error
    assert isinstance(error, kit.AwaitOnSyncResult) and isinstance(error, TypeError)
    assert error.call_site is not None and error.call_site.function == "_run_await_sync"
    assert not kit.loop.await_guard_active()


def test_bad_arguments_are_one_line_usage_errors(stack: Target) -> None:
    op = lambda c: c
    cases = [
        ({}, "needs a target"),
        ({"target": stack, "concurrency": 0}, "concurrency=0"),
        ({"target": stack, "baseline": "nope"}, "baseline 'nope'"),
        ({"target": stack, "modes": "sync,thread"}, "unknown mode 'thread'"),
    ]
    for kwargs, message in cases:
        with pytest.raises(kit.UsageError, match=message):
            kit.diff(op, **kwargs)
    with pytest.raises(kit.UsageError, match="either an operation or service_factory"):
        kit.diff(op, target=stack, service_factory=lambda c: c, call=lambda s: s)
    with pytest.raises(kit.UsageError, match="modes do not apply"):
        kit.diff(target=stack, service_factory=lambda c: c, call=lambda s: s, modes="sync")
    with pytest.raises(kit.UsageError, match="must be a callable taking a client"):
        kit.diff("c.table('x')", target=stack)


def test_an_html_page_instead_of_the_file_is_flagged_and_explained(stack: Target,
                                                                    stored_object: str) -> None:
    rule = {"match": {"service": "storage", "method": "GET"},
            "effect": {"html_page": "cloudflare-520", "status": 200}}
    r = kit.diff(lambda c: c.storage.from_(BUCKET).download(stored_object), target=stack,
                 modes="sync,to_thread", faults=[rule])
    row = r["to_thread"]
    assert row.outcome == "value" and row.value.lstrip().lower().startswith(b"<!doctype html")
    assert "html_where_bytes_expected" in row.flags
    assert row.explanation is not None and row.explanation.recognised
    assert [ex.status for ex in row.exchanges] == [200] and row.exchanges[0].fault_rule
    html = r._repr_mimebundle_()["text/html"]
    assert "html_where_bytes_expected" in html
    assert r.verdict == ("every mode got an HTML page with status 200 where bytes was expected "
                         "(2 of 2 exchanges), so no data was compared.")


def test_the_silent_case_every_mode_got_an_html_200_page_where_json_was_expected(
        stack: Target, chats: str) -> None:
    rule = {"match": {"service": "rest"}, "effect": {"html_page": "nginx-502", "status": 200}}
    r = kit.diff(lambda c: c.table(chats).select("*").execute(), target=stack,
                 modes="sync,async,unawaited", faults=[rule])
    assert all(ex.status == 200 for ex in r.capture)
    assert r.verdict.startswith("every mode that sent a request (sync and async) got an HTML page "
                                "with status 200 where JSON was expected (2 of 2 exchanges), so no "
                                "data was compared")
    assert "return the same data" not in r.verdict


def test_existing_clients_lend_their_target_and_capture(stack: Target, chats: str) -> None:
    c = kit.clients(stack, role="anon")
    r = kit.diff(lambda client: client.table(chats).select("*").execute(), clients=c,
                 modes="sync,to_thread")
    c.close()
    assert r.capture is c.capture
    assert [ex.mode for ex in c.capture] == ["sync", "to_thread"]
    assert r["to_thread"].equal_to_baseline
    with pytest.raises(kit.UsageError, match="both target= and clients="):
        kit.diff(lambda client: client, clients=c, target=Target("remote", "http://x", "k"))

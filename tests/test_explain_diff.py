"""kit.explain(report): the user's failure, not the kit's demonstration; one stall threshold."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import kit
from kit.targets import Target


@pytest.fixture(scope="module")
def orders(stack: Target, db_url: str) -> Iterator[str]:
    table = f"orders_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"create table public.{table} (id int primary key, status text)")
        conn.execute(f"insert into public.{table} values (1, 'open'), (2, 'paid')")
        conn.execute("notify pgrst, 'reload schema'")
    time.sleep(0.3)
    yield table
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"drop table public.{table}")


def test_a_missing_table_is_the_answer_not_the_unawaited_demonstration(stack: Target,
                                                                        orders: str) -> None:
    typo = orders.replace("orders_", "order_")
    report = kit.diff(lambda c: c.table(typo).select("*").execute(), target=stack)
    assert report["unawaited"].outcome == "coroutine"  # the demonstration still happened
    why = kit.explain(report)
    assert why.explainer == "postgrest:PGRST205" and why.confidence == 0.95
    assert orders in why.title and typo in why.title
    assert why.evidence.exchanges and all(ex.status == 404 for ex in why.evidence.exchanges)
    ranked = [a.explainer for a in why.ranked]
    assert "coroutine_never_awaited" not in ranked
    assert "event_loop_blocked" not in ranked  # the blocking mode's own stall is not the answer
    assert f'client.table("{orders}")' in (why.fix.after if why.fix else "")
    made = list(dict.fromkeys(ex.mode for ex in why.evidence.exchanges))
    assert {"sync", "async", "to_thread"} <= set(made)
    [line] = why.to_dict()["exchanges"]  # one request, made identically in every mode: one line
    assert line.startswith(f"{', '.join(made)}: GET /rest/v1/{typo}?select=%2A → 404 application/json")
    assert [x for x in str(why).splitlines() if x.startswith("  exchange:")] == [f"  exchange: {line}"]


def test_a_missing_table_stays_the_answer_when_the_blocking_mode_really_stalls(
        stack: Target, orders: str) -> None:
    typo = orders.replace("orders_", "ordrs_")
    slow = kit.scenarios.with_latency(None, 80, service="rest")  # the blocking mode crosses 20 ms
    report = kit.diff(lambda c: c.table(typo).update({"n": 1}).eq("id", 1).execute(),
                      target=stack, faults=slow)
    assert report["blocking"].max_stall_ms >= report.threshold_ms
    why = kit.explain(report)
    assert why.explainer == "postgrest:PGRST205"
    assert "event_loop_blocked" not in [a.explainer for a in why.ranked]


def test_modes_that_raised_the_same_error_share_one_evidence_line(stack: Target, orders: str) -> None:
    typo = orders.replace("orders_", "ordes_")
    report = kit.diff(lambda c: c.table(typo).update({"status": "x"}).eq("id", 1).execute(),
                      target=stack)
    raised = [r.mode for r in report.rows if r.exception_type == "APIError"]
    assert len(raised) >= 2
    why = kit.explain(report)
    errors = [line for line in why.evidence.lines if "APIError: " in line]
    assert errors == [f"in {', '.join(raised)}: APIError: {report[raised[0]].error}"]
    assert len(why.evidence.lines) == len(set(why.evidence.lines))
    alone = kit.explain(report[raised[0]])  # one row: its error, without a list of modes
    assert f"APIError: {report[raised[0]].error}" in alone.evidence.lines


def test_a_report_where_only_the_demonstrations_misbehave(stack: Target, orders: str) -> None:
    report = kit.diff(lambda c: c.table(orders).select("*").limit(5).execute(), target=stack)
    why = kit.explain(report)
    assert why.explainer == "no_failure_of_its_own" and why.recognised
    text = str(why)
    assert "nothing to explain was given" not in text
    assert "await_sync: raises the await TypeError" in text
    assert "unawaited: returns a coroutine and sends nothing" in text
    assert report["await_sync"].explanation.explainer == "await_on_sync_result"  # a row on its own


class FixedLookup:
    def __init__(self, client: Any, table: str) -> None:
        self.client, self.table = client, table

    async def status(self) -> Any:
        query = self.client.table(self.table).select("status").eq("id", 1)
        return (await asyncio.to_thread(query.execute)).data


class SlowLookup:
    """An async service method that calls the sync client on the loop (the bug)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client, self.table = client, table

    async def status(self) -> Any:
        return self.client.table(self.table).select("status").eq("id", 1).execute().data


def test_identical_exchanges_share_a_line_and_different_ones_stay_apart(stack: Target,
                                                                      orders: str) -> None:
    typo, other = orders.replace("orders_", "ordrs_"), orders.replace("orders_", "orderz_")
    report = kit.diff(service_factory={"first": lambda c: FixedLookup(c.sync, typo),
                                       "second": lambda c: FixedLookup(c.sync, typo),
                                       "other": lambda c: FixedLookup(c.sync, other)},
                      call=lambda s: s.status(), target=stack)
    why = kit.explain(report)
    lines = why.to_dict()["exchanges"]
    assert [line.split(" → ")[0] for line in lines] == [
        f"first, second: GET /rest/v1/{typo}?select=status&id=eq.1",
        f"other: GET /rest/v1/{other}?select=status&id=eq.1"]
    assert all(" → 404 application/json " in line for line in lines)
    html = why._repr_mimebundle_()["text/html"]
    assert html.count("<summary>first, second: GET") == 1 and html.count("<summary>other: GET") == 1


def test_the_stall_that_fails_a_check_is_the_stall_that_is_explained(stack: Target,
                                                                     orders: str) -> None:
    latency = {"match": {"table": orders}, "effect": {"latency": 0.05}}
    report = kit.diff(service_factory={"lookup": lambda c: SlowLookup(c.sync, orders),
                                       "fixed": lambda c: FixedLookup(c.sync, orders)},
                      call=lambda s: s.status(), target=stack, faults=[latency], threshold_ms=20)
    check = report.checks["lookup keeps sync SDK calls off the loop"]
    assert not check.passed
    worst = max(s.duration_ms for s in report["lookup"].stalls if s.sync_sdk_call)
    why = kit.explain(report)
    assert why.explainer == "event_loop_blocked" and why.confidence >= 0.5
    assert f"up to {worst:.0f} ms (threshold 20 ms)" in str(why)
    assert "SlowLookup" in str(why) or "status" in str(why)  # where the loop was stuck


def test_str_is_the_whole_explanation_for_a_log(stack: Target, orders: str) -> None:
    c = kit.clients(stack)
    with pytest.raises(Exception) as info:
        c.sync.table(orders).select("statuss").execute()
    why = kit.explain(info.value, capture=c.capture)
    text = str(why)
    assert text == why.text() and text.startswith(why.title)
    for part in (why.cause, "evidence:", "fix:", "installed: supabase", "GET /rest/v1/" + orders,
                 "Perhaps you meant"):
        assert part in text, part
    assert stack.anon_key not in text and (stack.service_role_key or "-") not in text
    c.close()


async def test_a_watched_stall_speaks_at_the_watchs_own_threshold(stack: Target,
                                                                  orders: str) -> None:
    c = kit.clients(stack, faults=[{"match": {"table": orders}, "effect": {"latency": 0.05}}])
    async with kit.watch_loop(threshold_ms=20) as watch:
        c.sync.table(orders).select("*").execute()  # a sync call on the loop (the bug)
    why = kit.explain(watch)
    assert why.explainer == "event_loop_blocked" and "supabase" in why.cause
    assert "(threshold 20 ms)" in str(why) and "test_explain_diff.py" in str(why)
    assert why.fix is not None and why.fix.before.startswith('c.sync.table(orders).select("*")')
    assert why.fix.after.startswith(
        'await asyncio.to_thread(lambda: c.sync.table(orders).select("*").execute())')
    async with kit.watch_loop(threshold_ms=500) as calm:
        c.sync.table(orders).select("*").execute()
    assert kit.explain(calm).explainer == "not_recognised"  # under its threshold: no stall
    c.close()


def test_an_operation_without_execute_is_explained_as_such(stack: Target, orders: str) -> None:
    report = kit.diff(lambda c: c.table(orders).select("*"), target=stack, modes="sync,async")
    why = kit.explain(report)
    assert why.explainer == "execute_forgotten" and len(report.capture) == 0
    assert "SyncSelectRequestBuilder" in str(why)


def test_same_exchanges_merge_only_what_was_asked_and_answered_alike() -> None:
    """Pure code: exchanges as the capture records them; mode and timing differ, nothing else."""
    from kit.capture import Capture, Exchange
    from kit.explain import build_case
    from kit.explain.evidence import fact_lines, same_exchanges

    cap = Capture()

    def made(seq: int, mode: str | None, method: str = "GET", status: int = 404, path: str = "x",
             ms: float = 10.0) -> Exchange:
        return Exchange(method, f"http://h/rest/v1/{path}", (), cap.keep_body(b""), status,
                        (("content-type", "application/json"),), cap.keep_body(b"{}"), 0.0, 1.0, ms,
                        mode=mode, seq=seq)

    exchanges = [made(1, "sync"), made(2, "async", ms=12.5), made(3, "sync", status=200),
                 made(4, "async", method="POST"), made(5, "to_thread", path="y"), made(6, "sync"),
                 made(7, None, path="z"), made(8, None, path="z")]
    assert [same.line() for same in same_exchanges(exchanges)] == [
        "sync (2×), async: GET /rest/v1/x → 404 application/json 2 B in 10.0–12.5 ms",
        "sync: GET /rest/v1/x → 200 application/json 2 B in 10.0 ms",
        "async: POST /rest/v1/x → 404 application/json 2 B in 10.0 ms",
        "to_thread: GET /rest/v1/y → 404 application/json 2 B in 10.0 ms",
        "2×: GET /rest/v1/z → 404 application/json 2 B in 10.0 ms"]
    facts = fact_lines(build_case(exchanges))
    assert facts[0] == ("exchanges #1, #2, #6: sync (2×), async: GET /rest/v1/x → 404 "
                        "application/json 2 B in 10.0–12.5 ms")
    assert facts[1] == "exchange #3 [sync]: GET /rest/v1/x → 200 application/json (10 ms)"

"""Checkpoint 001 end to end as a signed-in user under RLS: the broken service next to fixed ones,
including a user's own implementation given as ``module:Class`` (tests/userapp)."""

from __future__ import annotations

import kit
from kit.scenarios.memory_queue_e2e import STEPS


def test_signed_in_end_to_end_broken_and_fixed_side_by_side(stack, sql) -> None:
    scenario = kit.scenarios.memory_queue(stack)
    scenario.setup()
    side = scenario.signed_in_end_to_end()
    broken, to_thread, async_client = side.runs
    assert [r.variant for r in side.runs] == ["broken", "to_thread", "async_client"]
    for run in (to_thread, async_client):
        assert [s.name for s in run.steps] == list(STEPS) and run.ok, run.steps
        assert "bar charts" in run.memory["summary"] and run.memory["version"] == 1
    failed = {s.name: s.detail for s in broken.steps if not s.ok}
    assert list(failed) == ["POST memory update", "worker summarises", "GET memory as the user"]
    assert all("can't be used in 'await' expression" in d for d in failed.values())
    assert broken.step("create conversation (RLS)").ok and broken.step("another user reads nothing").ok

    checks = side.checks()
    assert checks.passed and len(checks) == 3, [(c.name, c.detail) for c in checks.failed]
    html = side._repr_mimebundle_()["text/html"]
    assert html.count("<tr>") == len(STEPS) + 1 and "can&#x27;t be used in &#x27;await&#x27; expression" in html
    assert repr(side) == "<SideBySide broken failed, to_thread ok, async_client ok>"
    assert str(side).splitlines()[0].split() == ["step", "broken", "to_thread", "async_client"]

    # the conversations belong to their users, and RLS kept them apart
    owners = sql("SELECT c.user_id::text, u.email FROM public.conversations c JOIN auth.users u "
                 "ON u.id = c.user_id WHERE c.id LIKE 'kit-e2e-%%' AND u.email LIKE 'kit-e2e-%%'").fetchall()
    assert len({owner for owner, _ in owners}) >= 3

    mine = scenario.signed_in_end_to_end("userapp.services:GoodMemoryService")
    assert [r.variant for r in mine.runs] == ["broken", "userapp.services:GoodMemoryService"]
    assert mine.runs[1].ok, mine.runs[1].steps
    assert len(scenario.capture.filter(service="auth", status=200)) >= 4  # sign-ups and sign-ins, recorded
    scenario.close()

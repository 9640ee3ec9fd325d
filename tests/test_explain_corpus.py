"""Every case of the labelled failure corpus (tests/explain_corpus*.py) gets its expected
explanation: real failures of the real clients, explained from their evidence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import explain_corpus_cases  # noqa: F401  (registers the cases)
import pytest
import pytest_asyncio
from edge_server import edge_url  # noqa: F401  (fixture)
from explain_corpus import CASES, CorpusEnv, run_corpus

from kit.targets import Target


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def explained(stack: Target, edge_url: str) -> AsyncIterator[dict[str, Any]]:  # noqa: F811
    env = await CorpusEnv.build(stack, edge_url)
    try:
        yield await run_corpus(env)
    finally:
        await env.close()


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)
    assert {c.kind for c in CASES} == {"async misuse", "results", "schema", "transport", "edge",
                                       "storage", "auth", "stalls", "unknown"}


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_corpus_case(explained: dict[str, Any], stack: Target, case_id: str) -> None:
    item, why = explained[case_id]
    assert not isinstance(why, Exception), f"{case_id} did not produce its failure: {why}"
    assert why.explainer == item.label, f"{case_id}: got {why!r}\n{why}"
    if item.label == "not_recognised":
        assert why.confidence == 0.0 and why.evidence.lines  # the facts are still shown
    else:
        assert why.confidence >= 0.5 and why.evidence.lines
    text = str(why)
    assert why.cause in text and "installed: supabase" in text
    assert "seeds/" not in text and "checkpoint" not in text
    for secret in (stack.anon_key, stack.service_role_key or "-", stack.jwt_secret or "-"):
        assert secret not in text and secret not in repr(why.to_dict())
    if item.check is not None:
        item.check(why)

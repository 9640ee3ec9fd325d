"""Every catalogue entry rendered with its optional facts missing (no capture, no traceback, a
message that names nothing) reads correctly: no template slot left blank or filled with a
stand-in word, and no fact guessed (a role or a command the failure does not carry)."""

from __future__ import annotations

import re

import pytest
from postgrest.exceptions import APIError
from storage3.exceptions import StorageApiError
from supabase_auth.errors import AuthApiError

import kit
from kit.explain import CATALOGUE, CatalogueEntry, Explanation

# what a hole looks like once rendered (each was once printed by the kit)
SENTENCE_HOLES = {
    "an unfilled format field": r"\{[a-z_]+\}",
    "None printed as a value": r"(?:[:=]|\b(?:for|on|to|role|table|named|in)) None\b",
    "'the command' standing in for a command": r"\bthe command\b",
    "a verb slot filled with a noun": r"\bmay not (?:the|this|a)\b",
    "a question mark standing in for a name": r"['\"]\?['\"]",
    "a stock table name": r"\bpublic\.t\b|table\(\"t\"\)",
    "'unknown' without how to learn it": r"\bunknown \(",
    "a label with no value": r":\s*(?:;|$)",
    "a space before punctuation": r"\s[.,;:](?:\s|$)",
}
CODE_HOLES = {key: SENTENCE_HOLES[key] for key in (
    "an unfilled format field", "a question mark standing in for a name",
    "a stock table name")}
ENTRIES = sorted({entry.key: entry for entry in CATALOGUE.values()}.values(), key=lambda e: e.key)


def _bare(entry: CatalogueEntry) -> BaseException:
    """The service's error as the SDK raises it, with a message that names nothing."""
    if entry.service in ("postgrest", "sqlstate"):
        return APIError({"code": entry.code, "message": "refused", "details": None, "hint": None})
    if entry.service == "storage":
        return StorageApiError("refused", entry.code, entry.status or 400)
    return AuthApiError("refused", entry.status or 400, entry.code)  # type: ignore[arg-type]


def holes(why: Explanation, quoted: str = "") -> list[str]:
    """The holes in what ``why`` prints, apart from ``quoted`` (the failure's own text, which the
    evidence quotes as it is)."""
    found = []
    lines = [line for line in why.evidence.lines if not quoted or quoted[:200] not in line]
    sentences = [why.title, why.cause, *lines, why.fix.note if why.fix else ""]
    for name, pattern in SENTENCE_HOLES.items():
        found += [f"{name}: {text!r}" for text in sentences if re.search(pattern, text, re.MULTILINE)]
    code = [why.fix.before, why.fix.after] if why.fix else []
    for name, pattern in CODE_HOLES.items():
        found += [f"{name} in the fix: {text!r}" for text in code if re.search(pattern, text)]
    return found


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.key for e in ENTRIES])
def test_every_entry_reads_correctly_with_its_facts_missing(entry: CatalogueEntry) -> None:
    exc = _bare(entry)
    quoted = f"{type(exc).__name__}: {exc}"
    why = kit.explain(exc)
    assert why.explainer == entry.key
    for shown in why.ranked:  # the other matches are printed too
        assert holes(shown, quoted) == [], shown.explainer
    for shown in kit.explain(quoted).ranked:  # the same from a log line (auth's names no code)
        assert holes(shown, quoted) == [], shown.explainer


@pytest.mark.parametrize("message", [
    'new row violates row-level security policy for table "orders"',
    "permission denied for table orders",
    "permission denied",
])
def test_a_refusal_without_the_request_guesses_no_role_and_says_how_to_learn_it(message: str) -> None:
    exc = APIError({"code": "42501", "message": message, "details": None, "hint": None})
    why = kit.explain(exc)
    assert holes(why, f"APIError: {exc}") == []
    assert "The role is not known without the request: pass the exception itself" in why.cause
    assert why.fix is not None and why.fix.before == ""  # the refused call is not known either
    assert "authenticated can" not in why.fix.after and "to anon" not in why.fix.after
    assert "  for <command> to <role>" in why.fix.after or "  for insert to <role>" in why.fix.after
    assert "-- <role>: anon (the anon key) or authenticated" in why.fix.after
    text = why.text()
    assert "before:" not in text and "\ncode:\n" in text  # no empty "before" block


def test_the_write_a_new_row_message_names_is_insert_or_update() -> None:
    why = kit.explain(APIError({"code": "42501", "details": None, "hint": None,
                                "message": 'new row violates row-level security policy for table "orders"'}))
    assert why.title == "Row-level security: the request's role may not INSERT or UPDATE on orders"
    assert "command: INSERT or UPDATE (the message names a new row: a write)" in why.evidence.lines[0]
    assert "-- <command>: insert or update" in why.fix.after  # type: ignore[union-attr]

"""Hostile request input, refused the same way by every service (pure): JSON bodies and text.

    parse_json(b'{"a": 1}')          → {"a": 1}
    parse_json(b"[" * 10_000)        → BadInput("JSON nested deeper than 128 levels")
    text_problem("a\\x00b")          → "contains a NUL byte"

PostgreSQL text cannot hold NUL bytes or lone UTF-16 surrogates, and a body that is not UTF-8
or nests without end must not reach a parser's recursion limit: each is a 4xx naming the
bad thing, never a 500. Limits for sizes the edge refuses (URL, headers) are here too.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 128  # deeper bodies are refused before anything walks them recursively
MAX_URL_BYTES = 16 * 1024  # Cloudflare's URL limit: 414 above it
MAX_HEADER_BYTES = 32 * 1024  # Cloudflare's request header limit: 431 above it


class BadInput(ValueError):
    """Input a service refuses with a 4xx; ``str()`` names the bad thing."""


def parse_json(raw: bytes) -> Any:
    """The JSON value of a body; ``BadInput`` when it is not UTF-8, not JSON, or nested
    deeper than ``MAX_JSON_DEPTH``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"the body is not UTF-8 (byte {exc.start})") from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _depth(text) > MAX_JSON_DEPTH:
        raise BadInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"invalid JSON: {exc}"[:300]) from None


def _depth(text: str) -> int:
    """The deepest nesting of brackets outside JSON strings (a linear scan, no recursion)."""
    deepest = depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def text_problem(value: Any) -> str | None:
    """Why ``value`` (a string, or strings inside lists and objects) cannot be stored as
    PostgreSQL text, or None: a NUL byte, or a lone surrogate (not valid UTF-8)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "contains a NUL byte"
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return "contains a lone UTF-16 surrogate (not valid UTF-8)"
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None

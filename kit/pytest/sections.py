"""The texts a failing test shows: its stalls, its flagged exchanges, its capture, explained.

Pure functions of a test's findings (and its exception): values in, text out. Keys, JWTs
and tokens are masked (``kit.secrets``); HTML pages are summarised (status, gateway, title,
Ray ID) and shown as their first lines of text, never as markup.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kit.capture import Exchange
    from kit.explain import Explanation
    from kit.pytest.findings import Findings

MAX_EXCHANGES = 20
_WIDTH = 100
_EXPECTED = {"html_where_json_expected": "JSON was", "html_where_bytes_expected": "file bytes were"}


def stall_failure(findings: Findings) -> str:
    """``kit: the event loop stalled 312 ms (threshold 100 ms) at app/ads.py:14 download_image → …``."""
    stalls = findings.stalls
    worst = max(stalls, key=lambda s: s.duration_ms)
    head = (f"kit: the event loop stalled {worst.duration_ms:.0f} ms (threshold "
            f"{findings.threshold_ms:g} ms) at {worst.traced_to}")
    lines = [head]
    for stall in sorted(stalls, key=lambda s: s.start):
        if len(stalls) > 1:
            lines.append(f"  {stall.duration_ms:6.0f} ms  {stall.traced_to}")
        if stall.user_frame is not None and stall.user_frame.source_line:
            lines.append(f"    {stall.user_frame.source_line}")
    return "\n".join(lines)


def stall_explanation_inputs(findings: Findings) -> list[Any]:
    """What ``kit.explain`` gets for a test's stalls: the stalls themselves (it reads the stacks
    sampled during each) and the threshold they were measured against."""
    return [*findings.stalls, {"threshold_ms": findings.threshold_ms}]


def silent_html_failure(findings: Findings) -> str:
    """``kit: an HTML page arrived where JSON was expected (html_where_json_expected) …``."""
    flagged = findings.silent_html
    kinds = sorted({f for ex in flagged for f in findings.flags(ex) if f.startswith("html_where")})
    what = " and ".join(_EXPECTED[k] for k in kinds)
    lines = [(f"kit: an HTML page arrived where {what} expected ({', '.join(kinds)}); "
              "the supabase client returned it as data, with no error")]
    for ex in flagged[:5]:
        site = findings.capture.site_of(ex) if findings.capture is not None else None
        lines.append(f"  #{ex.seq} {ex.summary()}" + (f"\n      at {site.where}" if site else ""))
    return "\n".join(lines)


def capture_section(findings: Findings) -> str:
    """Every exchange of the test (call site, flags, HTML page summary), at most 20."""
    capture = findings.capture
    if capture is None:
        return ""
    exchanges = list(capture)
    lines = [f"{len(exchanges)} Supabase exchanges recorded"]
    lines += [_exchange_lines(findings, ex) for ex in exchanges[:MAX_EXCHANGES]]
    if len(exchanges) > MAX_EXCHANGES:
        lines.append(f"  … and {len(exchanges) - MAX_EXCHANGES} more")
    return "\n".join(lines)


def explanation_paragraph(explanation: Explanation) -> str:
    """``kit.explain``'s cause and fix as one wrapped paragraph (and the fixed code)."""
    from kit.secrets import mask_text

    text = f"{explanation.title}: {explanation.cause}"
    if explanation.fix is not None and explanation.fix.note:
        text += f" Fix: {explanation.fix.note}"
    lines = textwrap.wrap(mask_text(text), _WIDTH)
    if explanation.fix is not None and explanation.fix.after:
        lines += ["fixed:"] + ["    " + line for line in explanation.fix.after.splitlines()]
    if explanation.walkthrough:
        lines.append(f"replayed in {explanation.walkthrough}")
    return "\n".join(lines)


def _exchange_lines(findings: Findings, ex: Exchange) -> str:
    site = findings.capture.site_of(ex) if findings.capture is not None else None
    lines = [f"  #{ex.seq} {ex.summary()}"]
    if site is not None:
        lines.append(f"      at {site.where}")
    flags = findings.flags(ex)
    if flags:
        lines.append(f"      flags: {', '.join(flags)}")
    page = _page_lines(ex)
    if page:
        lines += ["      " + line for line in page]
    return "\n".join(lines)


def _page_lines(ex: Exchange) -> list[str]:
    from kit.render.pages import is_html, summarize_page
    from kit.render.text import decode_text
    from kit.secrets import mask_text

    if not ex.response_body or not is_html(ex.response_body):
        return []
    page = decode_text(ex.response_body[:50_000]).text
    summary = summarize_page(page, ex.response_headers).line(ex.status)
    words = " ".join(_visible_text(page).split())[:300]
    return [f"HTML page: {mask_text(summary, ex.secrets)[:_WIDTH]}",
            *textwrap.wrap(f"text: {mask_text(words, ex.secrets)}", _WIDTH - 6)]


def _visible_text(page: str) -> str:
    import re

    page = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", page)
    return re.sub(r"<[^>]+>", " ", page)


def other_stack_line(stack_dir: str, url: str, environ: Mapping[str, str]) -> str:
    """One line when the app's environment names another API than the fixtures' stack, else "".

    >>> other_stack_line("/p/.kit/stack", "http://127.0.0.1:4001", {"API_URL": "http://127.0.0.1:4002"})
    'kit: the kit fixtures used the embedded stack in /p/.kit/stack at http://127.0.0.1:4001, but API_URL is http://127.0.0.1:4002 (another stack, other tables): --kit-stack-dir DIR picks the stack (default: the nearest .kit/stack), --kit-target=local|remote the API your env names'
    """
    from kit.targets import ENV_NAMES

    url_names = dict.fromkeys(names.url for names in ENV_NAMES.values())  # each once, in order
    other = [(name, environ[name].strip()) for name in url_names
             if environ.get(name, "").strip() and environ[name].strip().rstrip("/") != url.rstrip("/")]
    if not other:
        return ""
    named = ", ".join(f"{name} is {value}" for name, value in other)
    return (f"kit: the kit fixtures used the embedded stack in {stack_dir} at {url}, but {named} "
            "(another stack, other tables): --kit-stack-dir DIR picks the stack (default: the "
            "nearest .kit/stack), --kit-target=local|remote the API your env names")

"""Explainers for what the edge and the URL do: rate limits, a URL that is not the project API,
an API path pasted into the project URL, a paused project, and storage objects served as text.
"""

from __future__ import annotations

import re

from kit.capture import Exchange
from kit.explain.case import Case
from kit.explain.evidence import exception_lines, exchange_line
from kit.explain.model import CONFIDENCE, MORE_SPECIFIC, NOTEBOOKS, Evidence, Explanation, Fix
from kit.explain.registry import register
from kit.render.pages import is_html, summarize_page
from kit.render.text import decode_text

_RATE_WORDS = re.compile(r"rate limit|too many requests", re.IGNORECASE)


def _statuses(case: Case) -> set[int]:
    """HTTP statuses the exceptions carry (postgrest puts a bare status in APIError.code)."""
    found = set()
    for exc in case.exceptions:
        for name in ("status", "code", "status_code"):
            value = getattr(exc, name, None)
            if isinstance(value, int) or isinstance(value, str) and value.isdigit():
                found.add(int(value))
    return found


@register("rate_limited")
def rate_limited(case: Case) -> Explanation | None:
    limited = [ex for ex in case.exchanges if ex.status == 429 and not is_html(ex.response_body)]
    by_status = 429 in _statuses(case)
    worded = [e for e in case.exceptions if _RATE_WORDS.search(str(getattr(e, "message", "")))]
    if not limited and not by_status and not worded:
        return None
    if any(b.is_html for b in case.bodies) or any(ex.status == 429 and is_html(ex.response_body)
                                                  for ex in case.exchanges):
        return None  # an edge's HTML page (Cloudflare 1015): html_page_from_edge reads it
    if any(getattr(e, "code", None) and not str(getattr(e, "code", "")).isdigit()
           and type(e).__module__.startswith("supabase_auth") for e in case.exceptions):
        return None  # Auth names its rate limits (over_request_rate_limit): the catalogue's job
    lines = [exchange_line(ex) for ex in limited[:3]]
    waits = [str(ex.response_header("retry-after")) for ex in limited
             if ex.response_header("retry-after")]
    if waits:
        lines.append(f"Retry-After: {waits[0]} s")
    lines += exception_lines(case)[:2]
    services = sorted({ex.service for ex in limited}) or ["the API"]
    unparsed = any("Unable to parse error message" in str(getattr(e, "message", ""))
                   for e in case.exceptions)
    note = (" storage3 could not read the gateway's JSON body as a Storage error, so it raised "
            "StorageApiError('Unable to parse error message: ...') with the body inside."
            if unparsed else "")
    return Explanation(
        "rate_limited", f"Rate limited (HTTP 429) by {', '.join(services)}",
        "The gateway refused the request because this client sent too many in a short time."
        f"{' It says to wait ' + waits[0] + ' s (Retry-After).' if waits else ''}{note} Bursts of "
        "concurrent requests (asyncio.gather over many items, many workers) trigger it.",
        Evidence(tuple(lines), tuple(limited[:3])),
        Fix("await asyncio.gather(*(download(p) for p in paths))   # hundreds at once",
            "limit = asyncio.Semaphore(8)\nasync def polite(p):\n    async with limit:\n"
            "        return await download(p)\nawait asyncio.gather(*(polite(p) for p in paths))\n"
            "# on 429: sleep Retry-After seconds, then retry",
            "Bound concurrency and honour Retry-After."),
        CONFIDENCE["code"] if limited or by_status else CONFIDENCE["shape"], NOTEBOOKS["storage"])


def _html_exchanges(case: Case, *statuses: int) -> list[tuple[Exchange, str]]:
    return [(ex, decode_text(ex.response_body[:50_000]).text) for ex in case.exchanges
            if ex.status in statuses and is_html(ex.response_body)]


def _html_bodies(case: Case, *statuses: int) -> list[tuple[int | None, str]]:
    found: list[tuple[int | None, str]] = [(ex.status, page) for ex, page in
                                           _html_exchanges(case, *statuses)]
    found += [(b.status, decode_text(b.body).text) for b in case.bodies
              if b.is_html and (b.status in statuses)]
    return found


@register("url_not_project_api")
def url_not_project_api(case: Case) -> Explanation | None:
    pages = _html_bodies(case, 404, 405)
    if not pages:
        return None
    status, page = pages[0]
    summary = summarize_page(page)
    urls = [ex.masked_url for ex, _ in _html_exchanges(case, 404, 405)]
    return Explanation(
        "url_not_project_api", "The URL is a web page, not the project's API",
        f"The answer is an HTML {status} page ({summary.line(status)}), which Supabase's API never "
        "sends: the client's URL points at a web app, the Supabase dashboard "
        "(supabase.com/dashboard/project/<ref>) or a site, not at the project API "
        "(https://<ref>.supabase.co).",
        Evidence((summary.line(status), *(f"URL: {u}" for u in urls[:2]))),
        Fix('create_client("https://supabase.com/dashboard/project/abcd", key)',
            'create_client("https://abcd.supabase.co", key)   # Settings → API → Project URL',
            "Use the Project URL from Settings → API."),
        CONFIDENCE["signature"], NOTEBOOKS["start"])  # Supabase never sends HTML 404s


_API_TWICE = re.compile(r"/(rest|storage|auth)/v1/(.*/)?(rest|storage|auth)/v1(/|$)")


@register("url_has_api_path")
def url_has_api_path(case: Case) -> Explanation | None:
    doubled = [ex for ex in case.exchanges if _API_TWICE.search(ex.path)]
    match = case.find(r"Could not find the table '[\w]+\.[\w-]+/[^']*'")
    if not doubled and match is None:
        return None
    lines = [exchange_line(ex) for ex in doubled[:2]]
    if match is not None:
        lines.append(case.line_of(match))
    return Explanation(
        "url_has_api_path", "The project URL has an API path (/rest/v1/...) pasted in",
        "The client was given a URL that already ends in /rest/v1 (or /rest/v1/<table>); it adds "
        "/rest/v1/<table> itself, so the request goes to /rest/v1/<table>/rest/v1/<table>. Hosted "
        "Supabase answers PGRST125 (invalid path), a bare PostgREST PGRST205 with a table name "
        "containing slashes.",
        Evidence(tuple(lines), tuple(doubled[:2])),
        Fix('create_client("https://abcd.supabase.co/rest/v1/notes", key)',
            'create_client("https://abcd.supabase.co", key)',
            "Give the client the project URL only."),
        CONFIDENCE["code"] + MORE_SPECIFIC, NOTEBOOKS["start"])


@register("project_paused")
def project_paused(case: Case) -> Explanation | None:
    pages = [(status, summarize_page(page)) for status, page in
             _html_bodies(case, *range(200, 600)) if re.search(r"paused", page[:5000], re.IGNORECASE)]
    if not pages:
        return None
    status, summary = pages[0]
    silent = (" It came with HTTP 200, so no error was raised: the page was returned as if it "
              "were the data." if status is not None and 200 <= status < 300 else "")
    return Explanation(
        "project_paused", "The Supabase project is paused",
        f"The answer is Supabase's \"project paused\" page ({summary.line(status)}): the project "
        "itself is not running, so nothing behind the edge can answer. Free-plan projects are "
        "paused after a period of inactivity. This is not an edge failure: retrying does not "
        f"help.{silent}",
        Evidence((summary.line(status),), tuple(ex for ex, page in _html_exchanges(
            case, *range(200, 600)) if "paused" in page.lower())[:2]),
        Fix("# requests keep failing with an HTML page", "# restore the project: Dashboard → "
            "Project → Restore; then retry", "Restore the project from the dashboard."),
        CONFIDENCE["code"], NOTEBOOKS["storage"])  # the page is Supabase's own word


@register("stored_as_text_plain")
def stored_as_text_plain(case: Case) -> Explanation | None:
    from kit.render.sniff import sniff_kind

    odd = [ex for ex in case.exchanges if ex.service == "storage" and ex.method == "GET"
           and ex.ok and ex.content_type.startswith("text/plain")
           and sniff_kind(ex.response_body, "") in ("image", "binary")]
    if not odd:
        return None
    ex = odd[0]
    kind = sniff_kind(ex.response_body, "")
    return Explanation(
        "stored_as_text_plain", f"An {kind} file is served as text/plain (uploaded without a "
                                "content type)",
        f"The download of {ex.path} carries {kind} bytes but says Content-Type text/plain. "
        "Storage serves the content type given at upload; storage3's upload() sends "
        "text/plain;charset=UTF-8 when no content-type option is given, so browsers and "
        "image tools treat the file as text.",
        Evidence((exchange_line(ex), f"the bytes are {kind} ({len(ex.response_body)} B)"), (ex,)),
        Fix('storage.from_("ads").upload("a.png", data)',
            'storage.from_("ads").upload("a.png", data, {"content-type": "image/png", '
            '"upsert": "true"})',
            "Pass the real content type on upload (and re-upload the files stored as text)."),
        CONFIDENCE["shape"], NOTEBOOKS["storage"])

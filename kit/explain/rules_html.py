"""Explainers for HTML where JSON or bytes were expected: edge pages, masquerades, decode errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from kit.bodies import STORAGE_UNPARSED, HiddenBody
from kit.capture import Exchange
from kit.explain.calls import Call, call_of
from kit.explain.case import Case
from kit.explain.model import NOTEBOOKS, Evidence, Explanation, Fix
from kit.explain.registry import register
from kit.flags import expects_bytes
from kit.render.pages import PageSummary, is_html, summarize_page
from kit.render.text import decode_text

EDGE_CODES = {
    520: "Cloudflare 520: the origin answered with something Cloudflare could not use "
         "(an empty or reset response)",
    521: "Cloudflare 521: the origin refused Cloudflare's connection (the service is down)",
    522: "Cloudflare 522: Cloudflare could not finish a TCP connection to the origin in time",
    524: "Cloudflare 524: the origin accepted the connection but sent no answer within 100 s",
    1015: "Cloudflare 1015: you are being rate limited (too many requests from this client "
          "in a short time, e.g. a burst of concurrent downloads)",
    429: "HTTP 429: too many requests (rate limited)",
    502: "HTTP 502: the gateway got an invalid answer from the service behind it",
    503: "HTTP 503: the service is unavailable (restarting, paused or overloaded)",
    504: "HTTP 504: the gateway timed out waiting for the service behind it",
}
_GATEWAY_WORDS = {"kong": "Kong (Supabase's API gateway)", "cloudflare": "Cloudflare (the edge)",
                  "nginx": "an nginx proxy", "openresty": "an OpenResty proxy",
                  "envoy": "an Envoy proxy", "aws-elb": "an AWS load balancer",
                  "varnish": "a Varnish cache", "vercel": "Vercel's edge"}
_FIX = Fix(
    "data = supabase.storage.from_(bucket).download(path)   # may be an HTML page\n"
    "rows = supabase.table(table).select(\"*\").execute().data   # may be a str of HTML",
    "res = supabase.table(table).select(\"*\").execute()\n"
    "if not isinstance(res.data, list):\n"
    "    raise RuntimeError(f\"not JSON rows: {str(res.data)[:80]!r}\")\n"
    "data = supabase.storage.from_(bucket).download(path)\n"
    "if kit.render.is_html(data):\n"
    "    raise RuntimeError(\"an HTML page came back instead of the file\")",
    "Treat an HTML body as an error, retry 5xx/429 edge pages with backoff, and keep the page "
    "(kit.render) so its real cause is readable.")


def _html_fix(exchanges: Iterable[Exchange | None]) -> Fix:
    """The check for an HTML body on the user's own call (read back from its request: a REST
    read or a storage download); the stock pair of both when the call is not known."""
    call = call_of(next((ex for ex in exchanges if ex is not None), None))
    if call.operation == "download":
        code = call.code(client="supabase")
        return Fix(f"data = {code}   # may be an HTML page",
                   f"data = {code}\nif kit.render.is_html(data):\n"
                   "    raise RuntimeError(\"an HTML page came back instead of the file\")", _FIX.note)
    if call.known and call.head.startswith("{client}.table") or call.operation == "rpc":
        code = call.code(client="supabase")
        return Fix(f"res = {code}   # res.data may be a str of HTML",
                   f"res = {code}\nif isinstance(res.data, str):\n"
                   "    raise RuntimeError(f\"not JSON rows: {res.data[:80]!r}\")", _FIX.note)
    return _FIX


def _pages(case: Case) -> list[tuple[str, int | None, PageSummary, Exchange | None]]:
    found: list[tuple[str, int | None, PageSummary, Exchange | None]] = []
    for ex in case.exchanges:
        if ex.status is not None and is_html(ex.response_body):
            page = decode_text(ex.response_body[:50_000]).text
            found.append((f"exchange #{ex.seq}", ex.status, summarize_page(page, ex.response_headers),
                          ex))
    for body in case.bodies:
        if body.is_html:
            found.append((body.source, body.status, summarize_page(decode_text(body.body).text),
                          None))
    return found


@register("html_page_from_edge")
def html_page_from_edge(case: Case) -> Explanation | None:
    errors = [(src, status, page, ex) for src, status, page, ex in _pages(case)
              if ((status or 0) >= 400 or (page.edge_code or 0) >= 400)
              and status not in (404, 405)  # a site's page, not the edge's: url_not_project_api
              and not (status is not None and 200 <= status < 300)  # html_masquerading_as_result
              and not src.endswith("Response.data")  # a result, not an error: the same
              and "paused" not in (page.title or "").lower()]  # project_paused
    if not errors:
        return None
    _source, status, page, _ = errors[0]
    code = page.edge_code if page.gateway == "cloudflare" and page.edge_code else status
    meaning = EDGE_CODES.get(code or 0, f"HTTP {status}")
    who = _GATEWAY_WORDS.get(page.gateway or "", "a proxy or gateway in front of the service")
    storage = any(ex is not None and ex.service == "storage" for *_, ex in errors) or any(
        "Storage" in src for src, *_ in errors)
    side = (" Kong is the project's own gateway: the service behind it (REST, Storage, Auth) "
            "is down, restarting or crashed, so the project itself is failing."
            if page.gateway == "kong" else
            " The edge could not get a usable answer from the project's origin; the project may "
            "be fine again in a moment (retry with backoff) or overloaded."
            if page.gateway == "cloudflare" and (code or 0) != 1015 else "")
    note = side + (" It is not a race condition in your code: the page was made by the edge, "
                   "often while sync downloads blocked the event loop and requests piled up."
                   if storage else "")
    lines = tuple(f"{src}: {page.line(status)}" for src, status, page, _ in errors[:5])
    return Explanation(
        "html_page_from_edge", f"An HTML error page from {who}",
        f"The body is not Supabase's JSON but an HTML page made by {who}: {meaning}. supabase-py "
        f"has no parser for it, so it ends up inside the exception (or as the result).{note}",
        Evidence(lines, tuple(ex for *_, ex in errors if ex is not None)[:5]),
        _html_fix(ex for *_, ex in errors), 0.9, NOTEBOOKS["storage"])


@register("html_masquerading_as_result")
def html_masquerading_as_result(case: Case) -> Explanation | None:
    lines: list[str] = []
    exchanges = [ex for ex in case.exchanges if ex.ok and is_html(ex.response_body)]
    for ex in exchanges[:5]:
        what = "the file's bytes" if expects_bytes(ex) else "JSON"
        lines.append(f"exchange #{ex.seq}: HTTP {ex.status} with an HTML page where {what} was "
                     f"expected ({summarize_page(decode_text(ex.response_body[:50_000]).text).line()})")
    for result in case.results:
        data = getattr(result, "data", None)
        if type(result).__name__ in ("APIResponse", "SingleAPIResponse") and isinstance(data, str) \
                and is_html(data):
            lines.append(f"{type(result).__name__}.data is a str of HTML ({len(data)} chars), "
                         "not rows")
        elif isinstance(result, (bytes, bytearray)) and is_html(bytes(result)):
            lines.append(f"the downloaded bytes ({len(result)} B) are an HTML page")
    if not lines:
        return None
    return Explanation(
        "html_masquerading_as_result", "An HTML page passed off as a successful result",
        "A 200 response carried an HTML page. No error is raised: postgrest returns "
        "APIResponse(data='<!DOCTYPE html>...') and storage download() returns the page's bytes "
        "as if they were the file. The corruption is silent until something parses the data.",
        Evidence(tuple(lines), tuple(exchanges[:5])), _html_fix(exchanges), 0.9, NOTEBOOKS["storage"])


@register("json_decode_error_on_html")
def json_decode_error_on_html(case: Case) -> Explanation | None:
    errors = [e for e in case.exceptions if isinstance(e, json.JSONDecodeError)]
    match = case.find(r"Expecting value: line 1 column 1 \(char 0\)")
    if not errors and match is None:
        return None
    docs = [e.doc for e in errors]
    html_docs = [d for d in docs if is_html(d)]
    # a JSONDecodeError that storage3 wrapped in a StorageApiError is a detail, not the story
    wrapped = {id(e.__cause__ or e.__context__) for e in case.exceptions}
    inner_only = bool(errors) and all(id(e) in wrapped for e in errors)
    if html_docs:
        summary = summarize_page(html_docs[0]).line()
        cause = ("json.loads was given an HTML page: storage3's list()/upload() (and any "
                 "response.json()) parse the body of a 200 response without checking it, so an "
                 f"edge or proxy page raises a bare JSONDecodeError. The page: {summary}.")
        confidence = 0.9
    elif docs:
        cause = (f"json.loads was given a body that is not JSON ({len(docs[0])} chars"
                 f"{', empty' if not docs[0].strip() else ''}): an empty or truncated response, "
                 "or a non-JSON error page.")
        confidence = 0.7
    else:
        cause = ("A JSONDecodeError at char 0 means the body was not JSON at all: most often an "
                 "HTML page from the edge or an empty body. Capture the exchange "
                 "(kit.clients) to see it.")
        confidence = 0.5
    if inner_only:
        confidence = min(confidence, 0.6)
    lines = tuple(f"JSONDecodeError: {e.msg} (doc starts {e.doc[:60]!r})" for e in errors[:3]) or (
        (case.line_of(match),) if match else ())
    return Explanation("json_decode_error_on_html", "JSONDecodeError on a non-JSON body", cause,
                       Evidence(lines), _FIX, confidence, NOTEBOOKS["storage"])


@register("storage_unparsed_error")
def storage_unparsed_error(case: Case) -> Explanation | None:
    errors = [e for e in case.exceptions_named("StorageApiError")
              if str(getattr(e, "message", "")).startswith(STORAGE_UNPARSED)]
    match = case.find(re.escape(STORAGE_UNPARSED.strip()))
    if not errors and match is None:
        return None
    bodies: list[HiddenBody] = [b for b in case.bodies if b.source == "StorageApiError.message"]
    described = summarize_page(decode_text(bodies[0].body).text).line(bodies[0].status) if bodies \
        else "(body not available)"
    return Explanation(
        "storage_unparsed_error", "StorageApiError: \"Unable to parse error message\"",
        "Storage answered an error status with a body that is not Storage's JSON error, so "
        "storage3 put the whole body into StorageApiError.message with code 'InternalError'. "
        f"The body: {described}. (storage3 <= 2.31 raised a bare JSONDecodeError here.)",
        Evidence((f"StorageApiError status={getattr(errors[0], 'status', '?')}" if errors
                  else case.line_of(match),)),  # type: ignore[arg-type]
        _FIX, 0.8, NOTEBOOKS["storage"])


_TRUNCATED = re.compile(r"peer closed connection without sending complete message body[^)']*|"
                        r"IncompleteRead|incomplete chunked read")


@register("truncated_body")
def truncated_body(case: Case) -> Explanation | None:
    match = case.find(_TRUNCATED)
    if match is None:
        return None
    broken = tuple(ex for ex in case.exchanges if ex.error and _TRUNCATED.search(ex.error))
    call = call_of(broken[0] if broken else None)
    if call.operation != "select":  # paging is for reads: a stock read shows it
        call = Call.example("big")
    return Explanation(
        "truncated_body", "The connection closed in the middle of the response body",
        "The server (or a proxy or edge in front of it) sent the headers and part of the body, "
        "then closed the connection: a crashed or restarted upstream, a proxy timeout, or a "
        "load balancer dropping long responses. httpx raises RemoteProtocolError; postgrest "
        "retries GET/HEAD on it (1+2+4 s), so the same failure may appear several times.",
        Evidence((case.line_of(match),), broken[:5]),
        Fix(f"rows = {call.code()}.data",
            f"rows = {call.with_modifier('.range(0, 999)').code()}.data  # page it",
            "Smaller responses and pagination make drops rarer; check the proxy's timeouts."),
        0.92, NOTEBOOKS["start"])


@register("content_type_mismatch")
def content_type_mismatch(case: Case) -> Explanation | None:
    from kit.flags import CONTENT_TYPE_MISMATCH, flags_for
    from kit.render.sniff import declared_kind, sniff_kind

    odd = [ex for ex in case.exchanges if CONTENT_TYPE_MISMATCH in flags_for(ex)]
    if not odd:
        return None
    lines = tuple(f"exchange #{ex.seq}: Content-Type {ex.content_type!r} "
                  f"({declared_kind(ex.content_type)}) but the bytes are "
                  f"{sniff_kind(ex.response_body, ex.content_type)}" for ex in odd[:5])
    return Explanation(
        "content_type_mismatch", "The Content-Type header does not match the body",
        "A response declared one type and carried another. supabase-py mostly ignores the "
        "header (postgrest parses the bytes as JSON, storage download returns the bytes), so "
        "the mismatch is silent; it usually points at a proxy or a misconfigured upload "
        "(the object was stored with the wrong content type).",
        Evidence(lines, tuple(odd[:5])),
        Fix("client.storage.from_(b).upload(path, data)",
            "client.storage.from_(b).upload(path, data, {\"content-type\": \"image/png\"})",
            "Set the content type on upload; treat a mismatch on an API route as a proxy issue."),
        0.5, NOTEBOOKS["start"])

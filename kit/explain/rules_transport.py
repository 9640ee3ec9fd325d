"""Explainers for the transport: nothing listening, timeouts (client vs statement timeout),
connections reset, file descriptors exhausted by a client per request.

The facts come from the httpx exception itself: its type, its message, the request it carries
(URL, and the timeouts the client configured in ``request.extensions["timeout"]``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from kit.explain.case import Case
from kit.explain.model import CONFIDENCE, NOTEBOOKS, Evidence, Explanation, Fix
from kit.explain.registry import register

# what usually listens on a port a Supabase app talks to (facts from supabase's CLI and docs)
USUAL_LISTENERS = {
    54321: "the local Supabase API gateway of `supabase start` (Kong)",
    54322: "the local Supabase PostgreSQL of `supabase start` (a database, not HTTP)",
    54323: "Supabase Studio of `supabase start` (the dashboard, not the API)",
    8000: "a self-hosted Supabase's Kong gateway (docker compose)",
    3000: "a PostgREST (or a web app's dev server)",
    5432: "PostgreSQL (a database, not HTTP)",
    6543: "Supavisor, Supabase's connection pooler (a database, not HTTP)",
    443: "the HTTPS endpoint of a hosted project",
    80: "an HTTP server",
}


def _request_of(exc: BaseException) -> object | None:
    try:
        return getattr(exc, "request", None)
    except RuntimeError:  # httpx raises when the error carries no request
        return None


def _httpx_errors(case: Case, *names: str) -> list[BaseException]:
    return [e for e in case.exceptions if type(e).__module__.startswith(("httpx", "httpcore"))
            and type(e).__name__ in names]


def _url_of(case: Case, errors: list[BaseException]) -> str | None:
    for exc in errors:
        request = _request_of(exc)
        if request is not None:
            return str(getattr(request, "url", "")) or None
    failed = [ex for ex in case.exchanges if ex.status is None]
    return failed[0].masked_url if failed else None


_ERRNO_24 = re.compile(r"\[Errno 24\]|Too many open files")


@register("too_many_open_files")
def too_many_open_files(case: Case) -> Explanation | None:
    match = case.find(_ERRNO_24)
    if match is None:
        return None
    return Explanation(
        "too_many_open_files", "Out of file descriptors: clients (connections) are leaking",
        "The process reached its limit of open files ([Errno 24]); every open socket counts. "
        "The usual cause in a Supabase app is a new client per request (create_client / "
        "acreate_client in a request handler or loop): each one opens its own connection pool "
        "and nothing closes it, so connections pile up until the limit.",
        Evidence((case.line_of(match),)),
        Fix("async def handler(req):\n    supabase = await acreate_client(url, key)   # per request\n"
            "    return await supabase.table(\"<table>\").select(\"*\").execute()",
            "supabase: AsyncClient | None = None\n\nasync def startup():\n    global supabase\n"
            "    supabase = await acreate_client(url, key)   # once\n\nasync def handler(req):\n"
            "    return await supabase.table(\"<table>\").select(\"*\").execute()",
            "Make one client at start-up and share it; if you must make short-lived ones, close "
            "them (await client.postgrest.aclose())."),
        CONFIDENCE["transport"], NOTEBOOKS["start"])


@register("nothing_listening")
def nothing_listening(case: Case) -> Explanation | None:
    errors = _httpx_errors(case, "ConnectError")
    texts = [str(e) for e in errors]
    if not errors or any(_ERRNO_24.search(t) for t in texts):
        return None
    url = _url_of(case, errors)
    parts = urlsplit(url or "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    dns = any(re.search(r"Name or service not known|nodename nor servname|getaddrinfo failed|"
                        r"Temporary failure in name resolution|No address associated", t)
              for t in texts)
    if dns:
        title = f"The host {parts.hostname!r} does not resolve (DNS)"
        cause = (f"No address was found for {parts.hostname!r}: the project URL has a typo, the "
                 "project ref is wrong or the project was deleted, or the machine has no DNS.")
    elif url is None:
        title = "The connection was refused (the error names no URL)"
        cause = ("The connection was refused: no server listens at the host and port the client "
                 "used. The error does not say which; the URL is the one given to create_client "
                 "(or SUPABASE_URL), and a captured run (kit.clients(target)) shows it.")
    else:
        usual = USUAL_LISTENERS.get(port, "nothing the kit knows of")
        title = f"Nothing is listening at {parts.scheme}://{parts.netloc}"
        cause = (f"The connection to {parts.hostname}:{port} was refused: no server listens "
                 f"there. Usually {usual} listens on port {port}; it is not running, or the URL "
                 "(host or port) is not the project's.")
    return Explanation(
        "nothing_listening", title, cause,
        Evidence((f"{type(errors[0]).__name__}: {texts[0]}", f"URL: {url or 'not in the error'}")),
        Fix('create_client("http://localhost:5432", key)   # a database port, or a stopped stack',
            'create_client(os.environ["SUPABASE_URL"], key)   # https://<ref>.supabase.co, or '
            'http://127.0.0.1:54321 after `supabase start`',
            "Start the service (`supabase start`, `python -m kit stack up`) or use the project's "
            "API URL from Settings → API."),
        CONFIDENCE["transport"], NOTEBOOKS["start"])


_TIMEOUT_WORDS = {
    "ReadTimeout": ("read", "the server accepted the request but sent no answer within the "
                            "client's read timeout"),
    "WriteTimeout": ("write", "the request body could not be sent within the client's write "
                              "timeout"),
    "ConnectTimeout": ("connect", "no connection could be made within the client's connect "
                                  "timeout (a firewall, a wrong host, or an overloaded edge)"),
    "PoolTimeout": ("pool", "every connection of the client's pool was busy for longer than the "
                            "pool timeout: too many concurrent requests for max_connections, or "
                            "connections held by requests that never finish"),
}


@register("client_timeout")
def client_timeout(case: Case) -> Explanation | None:
    errors = _httpx_errors(case, *_TIMEOUT_WORDS)
    if not errors:
        return None
    exc = errors[0]
    key, meaning = _TIMEOUT_WORDS[type(exc).__name__]
    request = _request_of(exc)
    timeouts = getattr(request, "extensions", {}).get("timeout", {}) if request is not None else {}
    limit = timeouts.get(key)
    lines = [f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
             f"URL: {_url_of(case, errors) or '?'}"]
    if limit is not None:
        lines.append(f"client {key} timeout: {limit:g} s")
    return Explanation(
        "client_timeout", f"The client gave up: httpx {type(exc).__name__}",
        f"This is the client's own timeout, not the database's: {meaning}"
        f"{f' ({limit:g} s)' if limit is not None else ''}. A database statement timeout looks "
        "different: an APIError with code 57014 and HTTP 500. Slow answers come from slow "
        "queries, a paused or overloaded project, or a proxy holding the request.",
        Evidence(tuple(lines)),
        Fix("httpx.AsyncClient(timeout=1.0)      # too short for this query",
            "httpx.AsyncClient(timeout=httpx.Timeout(30.0, pool=10.0),\n"
            "                  limits=httpx.Limits(max_connections=50))",
            "Give the client a timeout that fits the slowest query you accept, make slow queries "
            "faster, and bound concurrency to the pool size."),
        CONFIDENCE["transport"], NOTEBOOKS["start"])


_RESET = re.compile(r"Connection reset by peer|\[Errno 104\]|Server disconnected without sending "
                    r"a response|ConnectionResetError|connection was forcibly closed")


@register("connection_reset")
def connection_reset(case: Case) -> Explanation | None:
    match = case.find(_RESET)
    errors = _httpx_errors(case, "ReadError", "RemoteProtocolError", "WriteError")
    dropped = [e for e in errors if type(e).__name__ != "RemoteProtocolError" or match is not None]
    if match is None and not dropped:
        return None
    return Explanation(
        "connection_reset", "The connection was reset before an answer arrived",
        "The server or something between (proxy, load balancer, NAT) closed the connection "
        "without answering: a restart or crash of the upstream, an idle keep-alive connection "
        "the other side had already dropped, or a proxy limit. postgrest retries GET/HEAD on "
        "network errors; writes are not retried.",
        Evidence((case.line_of(match) if match else f"{type(dropped[0]).__name__}: "
                  f"{dropped[0]!s} (no answer: the socket was closed under the read)",
                  f"URL: {_url_of(case, errors) or 'not in the error'}")),
        Fix('client.table("<table>").insert(row).execute()',
            'for attempt in range(3):\n    try:\n        client.table("<table>").upsert(row).execute()\n'
            '        break\n    except httpx.TransportError:\n        time.sleep(2 ** attempt)',
            "Retry idempotent calls (upsert, not insert) with backoff; check the proxy's idle "
            "timeouts."),
        CONFIDENCE["transport"], NOTEBOOKS["start"])

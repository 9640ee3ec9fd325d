"""Reachability: the project's REST, Storage and Auth health, the app's own health URL, and
a local Supabase CLI stack; every failure explained with its likely cause.

    probe_http("http://127.0.0.1:8000/health", timeout=5)   # HttpProbe(outcome="refused", ...)
    health_check("http://127.0.0.1:8000/health")            # DoctorCheck with evidence and fix

``curl -w '%{http_code}'`` prints ``000`` when no HTTP response came back at all: the
connection was refused, timed out, the name did not resolve, or TLS failed. The doctor
tells these apart (httpx's ConnectError / ConnectTimeout / ReadTimeout / RemoteProtocolError).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from kit.doctor.configuration import configured_values, env_reads, supabase_pairs
from kit.doctor.examination import Examination
from kit.doctor.interpreter_checks import run_command
from kit.doctor.key_source import KeySource, supabase_target
from kit.doctor.model import FAIL, INFO, OK, WARN, DoctorCheck, DoctorOptions
from kit.render.pages import is_html, summarize_page

__all__ = ["COMMON_APP_PORTS", "NO_ANSWER", "HttpProbe", "health_check", "local_stack_check", "probe_http",
           "reachability_checks", "service_checks", "speaks_postgres"]

SECTION = "reachability"
CURL_000 = "no HTTP response at all (curl prints 000)"
COMMON_APP_PORTS = (8000, 8080, 5000, 3000, 8001, 8888, 54321)
SERVICES = (("REST", "/rest/v1/"), ("Storage", "/storage/v1/bucket"), ("Auth", "/auth/v1/health"))


@dataclass(frozen=True)
class HttpProbe:
    url: str
    outcome: str          # answered | refused | connect-timeout | read-timeout | dns | tls | dropped | error
    status: int | None = None
    content_type: str = ""
    body: bytes = b""
    detail: str = ""

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        try:
            port = parts.port
        except ValueError:  # "Port could not be cast to integer value"
            port = None
        return parts.hostname or "", port or (443 if parts.scheme == "https" else 80)


def probe_http(url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5.0) -> HttpProbe:
    """One GET; every way it can fail becomes an ``outcome`` instead of an exception."""
    try:
        response = httpx.get(url, headers=dict(headers or {}), timeout=timeout, follow_redirects=True)
    except httpx.ConnectTimeout as exc:
        return HttpProbe(url, "connect-timeout", detail=str(exc))
    except httpx.TimeoutException as exc:
        return HttpProbe(url, "read-timeout", detail=str(exc))
    except httpx.ConnectError as exc:
        text = str(exc)
        lowered = text.lower()
        outcome = ("refused" if "refused" in lowered or "errno 111" in lowered or "errno 61" in lowered
                   else "tls" if "ssl" in lowered or "certificate" in lowered
                   else "dns" if "name" in lowered or "nodename" in lowered or "errno -" in lowered
                   else "error")
        return HttpProbe(url, outcome, detail=text)
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        return HttpProbe(url, "dropped", detail=str(exc))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return HttpProbe(url, "error", detail=f"{type(exc).__name__}: {exc}")
    return HttpProbe(url, "answered", response.status_code, response.headers.get("content-type", ""),
                     response.content[:20000])


def _listening(host: str, ports: tuple[int, ...], skip: int) -> list[int]:
    found = []
    for port in ports:
        if port == skip:
            continue
        try:
            with socket.create_connection((host, port), timeout=0.3):
                found.append(port)
        except OSError:
            pass
    return found


# outcome -> (what happened and its likely cause, the fix); {host} {port} {detail} filled in
NO_ANSWER = {
    "read-timeout": (
        ("{host}:{port} accepted the connection but sent nothing back before the timeout. Likely: "
         "the server's event loop is blocked (a sync Supabase call inside `async def` stalls every "
         "request), a worker is stuck, or it is still starting"),
        ("run `kit scan` on the app for blocking calls in async code; check the server's log; try "
         "again after startup")),
    "connect-timeout": (
        ("no answer to the connection attempt to {host}:{port} (packets dropped). Likely: a "
         "firewall, a wrong host or IP, or a machine that is down"),
        "check the host in the URL; from Docker use host.docker.internal, not {host}"),
    "dns": ("the name {host} does not resolve ({detail})",
            "check the host name in the URL (a typo, or a VPN-only name)"),
    "tls": (("the TLS handshake with {host}:{port} failed ({detail}). Likely: https:// against a "
             "plain-HTTP server (local servers speak http://)"),
            "use http:// for local servers, or fix the certificate"),
    "dropped": (("{host}:{port} closed the connection without an HTTP answer ({detail}). Likely: "
                 "not an HTTP server on that port, or it crashed handling the request"),
                "check which program owns the port and the server's log"),
    "postgres": (("{host}:{port} is a PostgreSQL server (it answered a PostgreSQL SSLRequest), "
                  "not an HTTP API. Likely: the URL holds the database's port (the Supabase CLI's "
                  "database is 54322, its API 54321)"),
                 ("point the URL at the API (`supabase status`: API URL; hosted: "
                  "https://<ref>.supabase.co); keep postgresql:// URLs for database clients")),
    "error": ("{detail}", "check the URL"),
}

# PostgreSQL's SSLRequest: length 8, code 80877103; a server answers one byte, S or N
# (PostgreSQL docs, "Message Flow: SSL Session Encryption").
_SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")


def speaks_postgres(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when ``host:port`` answers a PostgreSQL SSLRequest (the port is a database)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(_SSL_REQUEST)
            return conn.recv(1) in (b"S", b"N")
    except OSError:
        return False


def _no_answer(probe: HttpProbe, what: str, start_fix: str,
               other_ports: tuple[int, ...] = COMMON_APP_PORTS) -> tuple[str, str]:
    """(evidence, fix) for a probe that got no HTTP response."""
    host, port = probe.host_port
    if probe.outcome == "refused":
        others = ", ".join(map(str, _listening(host, other_ports, port)))
        seen = f"; something does listen on {host} port(s) {others}" if others else ""
        evidence = (f"connection refused, nothing listens on {host}:{port}{seen}. Likely: {what} "
                    "is not running, crashed while starting (an ImportError or a TypeError at "
                    "import shows in its own log, not here), or listens on another port or host")
        fix = start_fix + (f"; or point at the port that answers ({others})" if others else "")
        return f"{CURL_000}: {evidence}", fix
    if probe.outcome in ("dropped", "read-timeout") and speaks_postgres(host, port):
        evidence, fix = NO_ANSWER["postgres"]
    else:
        evidence, fix = NO_ANSWER.get(probe.outcome, NO_ANSWER["error"])
    fields = {"host": host, "port": port, "detail": probe.detail[:160]}
    return f"{CURL_000}: {evidence.format(**fields)}", fix.format(**fields)


def _html_evidence(probe: HttpProbe) -> str:
    page = summarize_page(probe.body.decode("utf-8", "replace"))
    return f"HTTP {probe.status} with an HTML page ({page.line() or 'no title'})"


def health_check(url: str, *, timeout: float = 5.0, run_command: str = "",
                 other_ports: tuple[int, ...] = COMMON_APP_PORTS) -> DoctorCheck:
    """``--health URL``: does the app answer, and if not, why. When the port refuses, the
    ``other_ports`` of the same host that accept a connection are named (a wrong port)."""
    name = f"health {url}"
    probe = probe_http(url, timeout=timeout)
    start_fix = f"start the app ({run_command or 'python -m uvicorn main:app'}) and read its log"
    if probe.outcome != "answered":
        evidence, fix = _no_answer(probe, "the app", start_fix, other_ports)
        return DoctorCheck(SECTION, name, FAIL, evidence, fix)
    if is_html(probe.body) or "text/html" in probe.content_type:
        return DoctorCheck(SECTION, name, FAIL if probe.status and probe.status >= 400 else WARN,
                           f"{_html_evidence(probe)} where a health endpoint answers JSON or text. "
                           "Likely: another program owns this port (a dev server, a proxy, a "
                           "dashboard), or the app answered with its error page",
                           "check which process listens on the port; give --health the app's own "
                           "URL and path")
    body = probe.body[:120].decode("utf-8", "replace").strip()
    if probe.status == 404:
        return DoctorCheck(SECTION, name, FAIL, f"HTTP 404: the server answers but has no such route "
                           f"({body!r})", "check the path (FastAPI: define @app.get('/health'))")
    if probe.status and probe.status >= 400:
        return DoctorCheck(SECTION, name, FAIL, f"HTTP {probe.status}: {body!r}",
                           "the app answers but the health endpoint fails: read the app's log")
    return DoctorCheck(SECTION, name, OK, f"HTTP {probe.status} ({probe.content_type or 'no type'}): {body!r}")


def _service_check(label: str, probe: HttpProbe, source: KeySource) -> DoctorCheck:
    name = f"{label} {probe.url}"
    if probe.outcome != "answered":
        evidence, fix = _no_answer(probe, f"the Supabase {label} service", source.start_fix())
        return DoctorCheck(SECTION, name, FAIL, evidence, fix)
    if is_html(probe.body):
        return DoctorCheck(SECTION, name, FAIL, f"{_html_evidence(probe)} where the {label} API answers "
                           "JSON. Likely: the URL is a website or dashboard, or an edge error page "
                           "(paused project, rate limit, origin down)",
                           "set the URL variable to the project's API URL, no path: "
                           f"{source.source_of('URL')}")
    if probe.status in (401, 403):
        return DoctorCheck(SECTION, name, FAIL, f"HTTP {probe.status}: the key was rejected "
                           f"({probe.body[:120].decode('utf-8', 'replace')!r})",
                           "the key belongs to another project or stack, or expired: copy it again; "
                           f"{source.source_of('KEY')}")
    if probe.status and probe.status >= 400:
        return DoctorCheck(SECTION, name, FAIL, f"HTTP {probe.status}: "
                           f"{probe.body[:160].decode('utf-8', 'replace')!r}",
                           "the service answers with an error: check the URL's path and the service log")
    return DoctorCheck(SECTION, name, OK, f"HTTP {probe.status} ({probe.content_type})")


def service_checks(url: str, key: str, *, timeout: float = 5.0,
                   source: KeySource | None = None) -> list[DoctorCheck]:
    """REST, Storage and Auth health of the project at ``url`` (``key`` sent, never shown);
    ``source`` (the kind of target) makes the fixes name its own commands.
    When the first gets no HTTP answer at all, the others would only repeat it: not probed."""
    base, headers = url.rstrip("/"), {"apikey": key, "Authorization": f"Bearer {key}"}
    checks = []
    for label, path in SERVICES:
        probe = probe_http(f"{base}{path}", headers=headers, timeout=timeout)
        checks.append(_service_check(label, probe, source or KeySource("unknown")))
        if probe.outcome != "answered":
            break
    return checks


def local_stack_check(env: Mapping[str, str], *, timeout: float = 10.0) -> DoctorCheck:
    """Is a Supabase CLI stack running here? (``supabase status -o json``, else port 54321)."""
    cli = shutil.which("supabase", path=env.get("PATH", ""))
    if cli:
        try:
            done = subprocess.run([cli, "status", "-o", "json"], capture_output=True, text=True,
                                  timeout=timeout, check=False, stdin=subprocess.DEVNULL)
            status = json.loads(done.stdout[done.stdout.index("{"):]) if done.returncode == 0 else {}
        except (OSError, subprocess.TimeoutExpired, ValueError):
            status = {}
        if status.get("API_URL"):
            return DoctorCheck(SECTION, "local Supabase stack", INFO,
                               f"`supabase status` reports a stack at {status['API_URL']}")
        return DoctorCheck(SECTION, "local Supabase stack", INFO, "the Supabase CLI is installed "
                           f"({cli}) but reports no running stack", "`supabase start` in the project folder")
    if _listening("127.0.0.1", (54321,), 0):
        return DoctorCheck(SECTION, "local Supabase stack", INFO, "something listens on 127.0.0.1:54321, "
                           "the Supabase CLI's API port (the CLI itself is not on PATH)")
    return DoctorCheck(SECTION, "local Supabase stack", INFO, "no Supabase CLI on PATH and nothing on "
                       "127.0.0.1:54321")


def reachability_checks(ex: Examination, options: DoctorOptions) -> list[DoctorCheck]:
    """The app's health URL (when given), the Supabase project the app's variables name, and a
    local Supabase CLI stack."""
    checks: list[DoctorCheck] = []
    if options.health:
        checks.append(health_check(options.health, timeout=options.timeout, run_command=run_command(ex)))
    if not options.reachability:
        return checks
    values = configured_values(ex.app)
    pairs = [(u, k) for u, k, _ in supabase_pairs(ex.app, {r.name for r in env_reads(ex.app)})
             if values.get(u) and values.get(k)]
    if pairs:
        url_var, key_var = pairs[0]
        checks += service_checks(values[url_var], values[key_var], timeout=options.timeout,
                                 source=supabase_target(ex.app, values[url_var]))
    else:
        checks.append(DoctorCheck(SECTION, "Supabase project", INFO,
                                  "no Supabase URL and key variables the app reads are both set: "
                                  "the project's services were not probed"))
    checks.append(local_stack_check(ex.app.env))
    return checks

"""kit doctor's reachability checks over real loopback sockets: the embedded stack's REST,
Storage and Auth, and health URLs that refuse, never answer, answer an HTML page or 404."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kit.doctor import doctor
from kit.doctor.model import FAIL, OK, WARN
from kit.doctor.reachability import CURL_000, health_check, probe_http
from kit.targets import Target

NGINX_WELCOME = ("<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>"
                 "<body><h1>Welcome to nginx!</h1></body></html>")


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body, status, kind = ((NGINX_WELCOME, 200, "text/html") if self.path.startswith("/html") else
                              ('{"detail":"Not Found"}', 404, "application/json"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_explains_000_and_says_start_the_app():
    check = health_check(f"http://127.0.0.1:{closed_port()}/health", timeout=2,
                         run_command=".venv/bin/python -m uvicorn main:app")
    assert check.status == FAIL
    assert check.evidence.startswith(f"{CURL_000}: connection refused, nothing listens on 127.0.0.1:")
    assert "crashed while starting" in check.evidence
    assert "start the app (.venv/bin/python -m uvicorn main:app)" in check.fix


def test_listening_socket_that_never_answers_is_a_blocked_server():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel accepts; nobody ever answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/health"
        assert probe_http(url, timeout=0.5).outcome == "read-timeout"
        check = health_check(url, timeout=0.5)
    assert check.status == FAIL and CURL_000 in check.evidence
    assert "accepted the connection but sent nothing back" in check.evidence
    assert "event loop is blocked" in check.evidence and "kit scan" in check.fix


def test_html_page_and_missing_route(pages: str):
    html = health_check(f"{pages}/html", timeout=2)
    assert html.status == WARN  # a 200, but not the app's answer
    assert 'HTTP 200 with an HTML page (nginx · "Welcome to nginx!")' in html.evidence
    assert "another program owns this port" in html.evidence
    missing = health_check(f"{pages}/health", timeout=2)
    assert missing.status == FAIL and missing.evidence.startswith("HTTP 404") and "/health" in missing.fix


def test_unresolvable_host_is_named():
    check = health_check("http://no-such-host.invalid:8000/health", timeout=2)
    assert check.status == FAIL and "does not resolve" in check.evidence


APP = {"main.py": "import os\nfrom supabase import create_client\n"
                  "client = create_client(os.environ['SUPABASE_URL'], os.environ['SUPABASE_KEY'])\n"}


def write_app(folder: Path) -> Path:
    for name, text in APP.items():
        (folder / name).write_text(text)
    return folder


def test_embedded_stack_services_answer(stack: Target, tmp_path: Path):
    key = stack.service_role_key or ""
    report = doctor(write_app(tmp_path), env={"PATH": "", "SUPABASE_URL": stack.url, "SUPABASE_KEY": key},
                    timeout=5)
    services = report.section("reachability")
    for label in ("REST", "Storage", "Auth"):
        [check] = [c for c in services if c.name.startswith(f"{label} {stack.url}")]
        assert check.status == OK and check.evidence.startswith("HTTP 200"), check
    assert key not in str(report)


def test_project_url_on_the_wrong_port_or_an_html_site(pages: str, tmp_path: Path, stack: Target):
    app = write_app(tmp_path)
    key = stack.anon_key
    refused = doctor(app, env={"PATH": "", "SUPABASE_URL": f"http://127.0.0.1:{closed_port()}",
                               "SUPABASE_KEY": key}, timeout=2)
    [rest] = refused.find("reachability", "REST")
    assert rest.status == FAIL and "connection refused" in rest.evidence and "supabase start" in rest.fix
    site = doctor(app, env={"PATH": "", "SUPABASE_URL": f"{pages}/html", "SUPABASE_KEY": key}, timeout=2)
    [rest] = site.find("reachability", "REST")
    assert rest.status == FAIL and "HTML page" in rest.evidence and "project's API URL" in rest.fix
    assert refused.exit_code == 1


def test_wrong_port_names_the_port_that_answers():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        answering = listener.getsockname()[1]
        check = health_check(f"http://127.0.0.1:{closed_port()}/health", timeout=2,
                             other_ports=(answering,))
    assert check.status == FAIL
    assert f"something does listen on 127.0.0.1 port(s) {answering}" in check.evidence
    assert f"point at the port that answers ({answering})" in check.fix


def test_local_supabase_cli_stack_is_reported(tmp_path: Path):
    from kit.doctor.reachability import local_stack_check

    cli = tmp_path / "supabase"  # stands in for the Supabase CLI: prints what `status -o json` prints
    cli.write_text('#!/bin/sh\n[ "$1 $2 $3" = "status -o json" ] && '
                   'echo \'Stopped services: []\n{"API_URL": "http://127.0.0.1:54321"}\'\n')
    cli.chmod(0o755)
    check = local_stack_check({"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert check.evidence == "`supabase status` reports a stack at http://127.0.0.1:54321"
    cli.write_text("#!/bin/sh\necho 'supabase local development setup is not running.' >&2\nexit 1\n")
    stopped = local_stack_check({"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert "reports no running stack" in stopped.evidence and "supabase start" in stopped.fix


@pytest.fixture
def postgres_on_tcp(db_url: str) -> Iterator[int]:
    """The stack's real PostgreSQL on a loopback TCP port (pgserver listens on a Unix socket):
    each connection is piped to the socket, as a local Supabase's 54322 would answer."""
    from urllib.parse import parse_qs, urlsplit

    if urlsplit(db_url).port:  # KIT_DATABASE_URL: already on TCP
        yield int(urlsplit(db_url).port or 0)
        return
    folder = parse_qs(urlsplit(db_url).query).get("host", ["/tmp"])[0]
    socket_path = next(Path(folder).glob(".s.PGSQL.*"))
    listener = socket.create_server(("127.0.0.1", 0))

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            dst.close()

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(str(socket_path))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def test_project_url_on_the_database_port(stack: Target, postgres_on_tcp: int, tmp_path: Path):
    db_port = postgres_on_tcp
    report = doctor(write_app(tmp_path), env={"PATH": "", "SUPABASE_URL": f"http://127.0.0.1:{db_port}",
                                              "SUPABASE_KEY": stack.anon_key}, timeout=1)
    [rest] = report.find("reachability", "REST")
    assert not report.find("reachability", "Storage")  # one explanation, not three
    assert rest.status == FAIL and CURL_000 in rest.evidence
    assert f"127.0.0.1:{db_port} is a PostgreSQL server" in rest.evidence
    assert "`supabase status`: API URL" in rest.fix


def test_a_token_in_the_health_url_is_masked():
    check = health_check(f"http://127.0.0.1:{closed_port()}/health?token=s3cr3t-value&x=1", timeout=2)
    assert "s3cr3t-value" not in check.name + check.evidence and "token=[masked]" in check.name

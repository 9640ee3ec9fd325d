"""The stack process: ``python -m kit.stack.server --data-dir DIR [--port N]``.

Started by ``kit stack up`` (kit.stack.process); runs PostgreSQL (pgserver, or the
database at ``KIT_DATABASE_URL``) and the gateway on 127.0.0.1 until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
from collections.abc import Generator
from pathlib import Path

import uvicorn

from kit.errors import KitError
from kit.stack import keys as stack_keys
from kit.stack.context import StackContext
from kit.stack.database import Database, redact_url, start_embedded_postgres, stop_embedded_postgres
from kit.stack.gateway import build_app
from kit.stack.state import DEFAULT_SCHEMAS, StackState, resolve_schemas, state_path

log = logging.getLogger("kit.stack")


class _Server(uvicorn.Server):
    """uvicorn, minus its signal handling: uvicorn re-raises a captured SIGTERM after shutting
    down, which kills the process before PostgreSQL is stopped. The stack handles the signals
    itself (``request_exit``) and stops PostgreSQL on the way out."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def request_exit(self) -> None:
        self.should_exit = True


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto is TCP;
    # with proto 0, Nagle + delayed ACK add ~40 ms to every response written in two parts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _bind_preferred(port: int) -> socket.socket:
    """``port`` (the one the stack last had, kit.stack.state.remembered_port) when it is free,
    else any free one: bound here, not checked beforehand, so no other program can take it
    in between."""
    try:
        return _bind(port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
    return _bind(0)


async def serve(data_dir: Path, port: int, database_url: str | None,
                schemas: tuple[str, ...] = DEFAULT_SCHEMAS, prefer_port: int = 0) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    embedded = not database_url
    url = database_url or start_embedded_postgres(data_dir / "pg")
    db = await Database.open(url)
    ctx = StackContext(db=db, keys=stack_keys.load_or_create(data_dir), data_dir=data_dir,
                       schemas=schemas)
    sock = _bind_preferred(prefer_port) if prefer_port and not port else _bind(port)
    bound_port = sock.getsockname()[1]
    # httptools (C) parses HTTP/1.1 when installed, else h11; KIT_STACK_HTTP=h11 forces h11
    config = uvicorn.Config(build_app(ctx), log_level="warning", access_log=False, server_header=False,
                            timeout_keep_alive=30, lifespan="off",
                            http=os.environ.get("KIT_STACK_HTTP", "auto"),
                            proxy_headers=False)  # loopback, no proxy: skip X-Forwarded-* work
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.request_exit)
    state = StackState(pid=os.getpid(), port=bound_port, url=f"http://127.0.0.1:{bound_port}",
                       database_url=url, data_dir=str(data_dir), embedded_postgres=embedded,
                       schemas=schemas)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        state.write(state_path(data_dir))
        log.warning("stack up at %s (database %s)", state.url, redact_url(url))
    try:
        await task
    finally:
        if (current := StackState.read(state_path(data_dir))) and current.pid == os.getpid():
            state_path(data_dir).unlink(missing_ok=True)
        await db.close()
        if embedded:
            stop_embedded_postgres()
        log.warning("stack stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kit.stack.server")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--prefer-port", type=int, default=0,
                        help="without --port: this one when free, else any free port")
    parser.add_argument("--schemas", default=None, help="schemas /rest/v1 exposes, comma-separated")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(serve(Path(args.data_dir), args.port, os.environ.get("KIT_DATABASE_URL") or None,
                          resolve_schemas(args.schemas), args.prefer_port))
    except KitError as exc:  # one line in the log (its last line is what `kit stack up` shows)
        log.error("%s", exc)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()

"""Captured HTTP exchanges: what the supabase clients really sent and received.

    c = kit.clients(kit.target())
    c.sync.table("chats").select("*").execute()
    c.capture                       # every exchange, rendered; secrets masked
    c.capture.filter(service="rest", status=200).to_frame()
    c.capture.save_har("run.har")

Each body is kept once, as the bytes the client produced (``kit.body_store``); bodies larger
than ``spill_above`` bytes (1 MiB by default) go to a temporary file the capture owns, so
recording large downloads costs little memory. Views (text, flags, renderings) are computed
from the bytes on demand; every view and export masks keys, JWTs, cookies and tokens
(``kit.secrets``), and ``save_har`` streams each body in chunks (``kit.har``).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kit.body_store import DEFAULT_SPILL_ABOVE, EMPTY, Body, BodyStore
from kit.secrets import mask_headers, mask_text

if TYPE_CHECKING:
    import pandas

__all__ = ["Capture", "Exchange", "capture_mode", "current_mode", "header_value", "service_of"]

#: The call mode the diff engine is running ("sync", "to_thread", ...); recorded on each exchange.
current_mode: contextvars.ContextVar[str | None] = contextvars.ContextVar("kit_capture_mode",
                                                                          default=None)

_SERVICES = (("/rest/v1", "rest"), ("/storage/v1", "storage"), ("/auth/v1", "auth"),
             ("/functions/v1", "functions"))


@contextlib.contextmanager
def capture_mode(mode: str | None) -> Iterator[None]:
    """Label the exchanges made inside the block: ``with capture_mode("to_thread"): ...``.

    The label is a ContextVar, so ``asyncio.to_thread`` and tasks created inside inherit it.
    """
    token = current_mode.set(mode)
    try:
        yield
    finally:
        current_mode.reset(token)


def service_of(url: str) -> str:
    """``http://h/rest/v1/chats`` → ``"rest"``; unknown paths → ``"other"``."""
    path = urlsplit(url).path
    for prefix, name in _SERVICES:
        if path.startswith(prefix + "/") or path == prefix:
            return name
    return "other"


@dataclass(frozen=True, repr=False)
class Exchange:
    """One HTTP request and its response (or the transport error that replaced it).

    Headers, URL and bodies are kept raw for exact comparisons; ``repr``, displays and
    exports show them masked. ``request_body``/``response_body`` are the bytes (read from the
    capture's spill file when large); ``request_size``/``response_size`` need no read.
    """

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_content: Body
    status: int | None
    response_headers: tuple[tuple[str, str], ...]
    response_content: Body
    started_at: float
    ended_at: float
    duration_ms: float
    http_version: str = "HTTP/1.1"
    mode: str | None = None
    thread: str = ""
    error: str | None = None
    retry_attempt: int = 0
    service: str = "other"
    fault_rule: str | None = None
    seq: int = 0
    secrets: tuple[str, ...] = field(default=(), compare=False)  # known key values, for masking

    @property
    def request_body(self) -> bytes:
        return self.request_content.read()

    @property
    def response_body(self) -> bytes:
        return self.response_content.read()

    @property
    def request_size(self) -> int:
        return len(self.request_content)

    @property
    def response_size(self) -> int:
        return len(self.response_content)

    def request_header(self, name: str) -> str | None:
        return header_value(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        return header_value(self.response_headers, name)

    @property
    def content_type(self) -> str:
        return (self.response_header("content-type") or "").split(";")[0].strip().lower()

    @property
    def request_content_type(self) -> str:
        return self.request_header("content-type") or ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def masked_url(self) -> str:
        return mask_text(self.url, self.secrets)

    def masked_request_headers(self) -> list[tuple[str, str]]:
        return mask_headers(self.request_headers, self.secrets)

    def masked_response_headers(self) -> list[tuple[str, str]]:
        return mask_headers(self.response_headers, self.secrets)

    @property
    def masked_error(self) -> str | None:
        return mask_text(self.error, self.secrets) if self.error else None

    def request_line(self) -> str:
        """``GET /rest/v1/chats?select=* → 200 application/json 123 B``: what was asked and what
        came back (masked), without the time it took."""
        parsed = urlsplit(self.masked_url)
        target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        outcome = (f"{self.status} {self.content_type or '-'} {self.response_size} B"
                   if self.error is None else f"error {self.masked_error}")
        return f"{self.method} {target} → {outcome}"

    def tags(self, *, mode: bool = True) -> str:
        """`` [to_thread] [fault slow] [retry 1]``: the mode that made it (``mode=False`` leaves
        it out), the fault rule that touched it, its retry attempt."""
        return "".join(f" [{x}]" for x in (mode and self.mode, self.fault_rule and f"fault {self.fault_rule}",
                                           self.retry_attempt and f"retry {self.retry_attempt}") if x)

    def summary(self) -> str:
        """``GET /rest/v1/chats?select=* → 200 application/json 123 B in 4.1 ms [to_thread]``."""
        return f"{self.request_line()} in {self.duration_ms:.1f} ms{self.tags()}"

    def __repr__(self) -> str:
        return f"<Exchange #{self.seq} {self.summary()}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from kit.render import render_exchange

        return {"text/plain": repr(self), "text/html": render_exchange(self)}


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


class Capture:
    """A thread-safe, ordered record of exchanges: ``len(c)``, ``for ex in c``, ``c[0]``, ``c.filter(...)``."""

    def __init__(self, exchanges: Iterable[Exchange] = (), *, secrets: Iterable[str] = (),
                 spill_above: int | None = DEFAULT_SPILL_ABOVE) -> None:
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = list(exchanges)
        self._secrets: set[str] = {s for s in secrets if s}
        self._secrets_tuple = tuple(self._secrets)
        self._store = BodyStore(spill_above)

    # recording -----------------------------------------------------------------------
    def keep_body(self, data: bytes | None) -> Body:
        """The Body this capture keeps for ``data`` (spilled to its temporary file when large)."""
        return self._store.keep(data) if data else EMPTY

    @property
    def spill_above(self) -> int | None:
        """Bodies larger than this many bytes are kept in a temporary file (None: never)."""
        return self._store.spill_above

    def append(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def add_secrets(self, *values: str | None) -> None:
        """Values that must be masked in every view even when not JWT-shaped (opaque keys)."""
        self._secrets.update(v for v in values if v)
        self._secrets_tuple = tuple(self._secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets_tuple

    def clear(self) -> None:
        with self._lock:
            self._exchanges.clear()

    # reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._exchanges)

    def __iter__(self) -> Iterator[Exchange]:
        with self._lock:
            return iter(list(self._exchanges))

    def __getitem__(self, index: int) -> Exchange:
        with self._lock:
            return self._exchanges[index]

    def __bool__(self) -> bool:
        return True

    def filter(self, *, mode: str | None = None, service: str | None = None,
               status: int | None = None, method: str | None = None,
               predicate: Callable[[Exchange], bool] | None = None) -> Capture:
        """A new Capture with the matching exchanges: ``c.filter(service="storage", status=502)``."""
        def keep(ex: Exchange) -> bool:
            return ((mode is None or ex.mode == mode)
                    and (service is None or ex.service == service)
                    and (status is None or ex.status == status)
                    and (method is None or ex.method.upper() == method.upper())
                    and (predicate is None or predicate(ex)))

        return Capture([ex for ex in self if keep(ex)], secrets=self._secrets,
                       spill_above=self.spill_above)

    def to_frame(self) -> pandas.DataFrame:
        """One row per exchange, secrets masked (pandas is imported here, not at ``import kit``)."""
        import pandas

        from kit.flags import flags_for

        rows = [{"seq": ex.seq, "started": pandas.Timestamp(ex.started_at, unit="s", tz="UTC"),
                 "mode": ex.mode, "thread": ex.thread, "service": ex.service, "method": ex.method,
                 "url": ex.masked_url, "status": ex.status, "content_type": ex.content_type,
                 "duration_ms": round(ex.duration_ms, 3), "request_bytes": ex.request_size,
                 "response_bytes": ex.response_size, "retry_attempt": ex.retry_attempt,
                 "fault_rule": ex.fault_rule, "error": ex.masked_error,
                 "flags": ",".join(flags_for(ex))} for ex in self]
        columns = ["seq", "started", "mode", "thread", "service", "method", "url", "status",
                   "content_type", "duration_ms", "request_bytes", "response_bytes",
                   "retry_attempt", "fault_rule", "error", "flags"]
        return pandas.DataFrame(rows, columns=columns)

    def to_har(self) -> dict[str, Any]:
        """The capture as a HAR 1.2 document (dict), secrets masked."""
        from kit.har import capture_to_har

        return capture_to_har(self)

    def save_har(self, path: str | Path) -> Path:
        """Write the capture as HAR 1.2 JSON (UTF-8), streamed: ``c.save_har("run.har")``."""
        from kit.har import write_har

        out = Path(path)
        with out.open("wb", buffering=1 << 20) as stream:
            write_har(self, stream)
        return out

    def __repr__(self) -> str:
        exchanges = list(self)
        failed = sum(1 for ex in exchanges if not ex.ok)
        services = sorted({ex.service for ex in exchanges})
        return (f"<Capture {len(exchanges)} exchanges, {failed} not ok"
                f"{', ' + '/'.join(services) if services else ''}>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from kit.render import render_capture

        return {"text/plain": repr(self), "text/html": render_capture(self)}

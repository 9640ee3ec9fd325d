"""The real supabase-py clients, built by the kit so every exchange is recorded.

    c = kit.clients(kit.target())
    c.sync.table("chats").select("*").execute()             # supabase Client
    await c.async_.table("chats").select("*").execute()     # supabase AsyncClient
    c.capture                                               # both clients' exchanges

Each client gets ONE injected httpx client (``SyncClientOptions(httpx_client=...)`` /
``AsyncClientOptions(httpx_client=...)``) shared by postgrest, storage, auth and
functions, so auth events that rebuild the sub-clients keep recording. supabase's own
defaults that an injected client would lose are set again: 120 s timeout, redirects
followed, HTTP/2 when ``h2`` is installed.
"""

from __future__ import annotations

import functools
import importlib.util
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx

from kit.capture import Capture
from kit.errors import TargetError, UsageError
from kit.recording import AsyncRecordingTransport, RecordingTransport
from kit.targets import Target

if TYPE_CHECKING:
    from supabase import AsyncClient, Client

__all__ = ["DEFAULT_TIMEOUT", "Clients", "clients"]

DEFAULT_TIMEOUT = 120.0  # supabase-py's postgrest/storage default
Role = Literal["service_role", "anon"]


@dataclass(frozen=True, repr=False)
class Clients:
    """A sync and an async supabase client for one target, recording into one Capture."""

    target: Target
    sync: Client
    async_: AsyncClient
    capture: Capture
    role: str

    def close(self) -> None:
        """Close the sync client's connections (``aclose()`` closes the async one)."""
        self.sync.options.httpx_client.close()  # type: ignore[union-attr]

    async def aclose(self) -> None:
        await self.async_.options.httpx_client.aclose()  # type: ignore[union-attr]

    def __repr__(self) -> str:
        return (f"<Clients {self.target.kind} {self.target.url} role={self.role}, "
                f"{len(self.capture)} exchanges>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from kit.render import render_capture

        head = (f"<p><b>Clients</b> for <code>{self.target.kind}</code> "
                f"<code>{self.target.url}</code>, role <code>{self.role}</code></p>")
        return {"text/plain": repr(self), "text/html": head + render_capture(self.capture)}


def clients(target: Target, *, capture: Capture | None = None, faults: Any = None,
            role: Role | None = None, timeout: float = DEFAULT_TIMEOUT,
            retry: bool = True, policy: Any = None,
            headers: Mapping[str, str] | None = None) -> Clients:
    """Build the recording sync and async clients for ``target``.

    ``role`` picks the key (default: service_role when the target has it, else anon);
    ``faults`` is a rule set applied inside the transport (``kit.faults``);
    ``retry=False`` turns postgrest's GET retries (1+2+4 s on 503/520) off;
    ``capture=kit.Capture(spill_above=256_000)`` picks the body size (bytes) above which
    recorded bodies go to the capture's temporary file instead of memory (default 1 MiB);
    ``policy`` (a ``kit.diff.writes.WritePolicy``) sees every request before it is recorded and
    sent: ``kit.diff`` rolls writes back, renames uploads and refuses writes with it;
    ``headers`` are sent on every request of both clients (an ``Authorization`` here
    replaces the key as the bearer token; the ``apikey`` header stays the key).

    >>> c = kit.clients(kit.target("embedded"), role="anon")     # doctest: +SKIP
    >>> c.sync.table("chats").select("*").execute().data         # doctest: +SKIP
    []
    """
    from supabase import AsyncClient, AsyncClientOptions, Client  # ~0.7 s: not at `import kit`
    from supabase.lib.client_options import SyncClientOptions

    key = _key_for(target, role)
    capture = capture if capture is not None else Capture()
    capture.add_secrets(target.anon_key, target.service_role_key, target.jwt_secret)
    sync_inner: httpx.BaseTransport = httpx.HTTPTransport(http2=_HTTP2, verify=_ssl_context())
    async_inner: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(http2=_HTTP2, verify=_ssl_context())
    if faults is not None:
        sync_inner, async_inner = _with_faults(sync_inner, async_inner, faults)
    sync_transport: httpx.BaseTransport = RecordingTransport(sync_inner, capture)
    async_transport: httpx.AsyncBaseTransport = AsyncRecordingTransport(async_inner, capture)
    if policy is not None:
        from kit.diff.writes import AsyncPolicyTransport, PolicyTransport

        sync_transport = PolicyTransport(sync_transport, policy)
        async_transport = AsyncPolicyTransport(async_transport, policy)
    sync_http = httpx.Client(transport=sync_transport, timeout=timeout, follow_redirects=True)
    async_http = httpx.AsyncClient(transport=async_transport, timeout=timeout,
                                   follow_redirects=True)
    sync_options = SyncClientOptions(httpx_client=sync_http, postgrest_client_retry=retry)
    async_options = AsyncClientOptions(httpx_client=async_http, postgrest_client_retry=retry)
    for options in (sync_options, async_options):
        options.headers.update(headers or {})
    sync = Client(target.url, key, sync_options)
    # The AsyncClient constructor needs no event loop (acreate_client only adds a session
    # lookup, which has nothing to find for a fresh client).
    async_ = AsyncClient(target.url, key, async_options)
    return Clients(target=target, sync=sync, async_=async_, capture=capture,
                   role="service_role" if key == target.service_role_key else "anon")


_HTTP2 = importlib.util.find_spec("h2") is not None


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One verifying SSL context for every transport (building one costs ~100 ms)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _key_for(target: Target, role: Role | None) -> str:
    if role not in (None, "service_role", "anon"):
        raise UsageError(f"unknown role {role!r}", fix="use role='service_role' or role='anon'")
    if role == "anon" or (role is None and not target.service_role_key):
        if not target.anon_key:
            raise TargetError(f"the {target.kind} target has no anon key",
                              fix="set the anon key variable (see kit.target's anon_key_env)")
        return target.anon_key
    if not target.service_role_key:
        raise TargetError(f"the {target.kind} target has no service_role key",
                          fix="set the service_role key variable or use role='anon'")
    return target.service_role_key


def _with_faults(sync_inner: httpx.BaseTransport, async_inner: httpx.AsyncBaseTransport,
                 rules: Any) -> tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]:
    try:
        from kit.faults.transport import wrap_async, wrap_sync
    except ImportError as exc:
        raise UsageError("client-side faults are not available in this kit build",
                         fix="pass faults=None, or use the embedded stack's fault middleware"
                         ) from exc
    return wrap_sync(sync_inner, rules), wrap_async(async_inner, rules)

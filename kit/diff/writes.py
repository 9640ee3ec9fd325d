"""Operations that write, inside a diff: told apart from reads, rolled back or removed, and
refused where the kit may not write.

    policy = WritePolicy(target, allow_writes=False)        # one per kit.diff
    kit.clients(target, policy=policy)                       # every request passes policy.prepare
    intent_of("POST", "http://h/rest/v1/todos")              # Intent('rest', 'insert', 'todos')

What it does to a diff's requests (the capture shows them as sent):

- every ``/rest/v1`` request carries ``Prefer: tx=rollback`` (PostgREST's preference, after any
  the operation set itself, so the operation's own ``tx=`` wins). The kit's stack rolls each
  mode's writes back and answers ``Preference-Applied: tx=rollback``; a server that ignores the
  preference (Supabase keeps PostgREST's ``db-tx-end = commit``) commits them, and the report
  says so, request by request, from that header.
- a storage upload goes under ``<folder>/kit_<mode>_<n>_<name>`` so the modes do not collide
  (409 Duplicate) and each starts from the same state; later reads of that name in the same
  mode (download, info, signed URL) are sent to the mode's copy; after each mode the kit
  removes the objects it created, and only those. On a local or remote project this creates
  a ``kit_`` object for a moment, even in a bucket of the user's; it is never refused.
- ``storage_names="upsert"`` keeps the caller's name and sends ``x-upsert: true``. Before the
  first upload of a name the kit asks Storage whether it exists (``GET /object/info``, outside
  the capture). A name that did not exist is the kit's: removed after each mode, like a
  ``kit_`` copy. A name that existed is the user's object: on a local or remote target the
  upload is refused before it is sent (``WritesRefused``, even with ``allow_writes=True``: the
  kit never replaces or deletes an object it did not create, and a copy put back would not be
  the original: new id, timestamps and owner); on the embedded stack (the kit's own) it is
  overwritten and left in place. Writing under a non-``kit_`` name on a local or remote target
  still needs ``allow_writes=True``.
- on a local or remote target a write to a table, function, bucket or object whose name does
  not start with ``kit_`` is refused before it is sent (``WritesRefused``), unless
  ``allow_writes=True``.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import httpx

from kit.capture import current_mode
from kit.errors import UsageError

__all__ = ["Intent", "WritePolicy", "WritesRefused", "intent_of", "rolled_back"]

KIT_PREFIX = "kit_"
STORAGE_NAMES = ("rename", "upsert")
_REST = re.compile(r"/rest/v1/(?P<rest>[^?]*)")
_STORAGE = re.compile(r"/storage/v1/(?P<rest>[^?]*)")


class WritesRefused(UsageError):
    """A diff would write to something on a user's project that the kit did not create."""


@dataclass(frozen=True)
class Intent:
    """What a request does: ``service`` (rest | storage), ``action`` and the ``name`` it touches
    (table, function, ``bucket/object`` or bucket)."""

    service: str
    action: str  # insert upsert update delete rpc | upload update remove move copy bucket
    name: str

    @property
    def subject(self) -> str:
        kinds = {"rpc": "function", "bucket": "bucket"}
        kind = kinds.get(self.action, "table" if self.service == "rest" else "object")
        return f"{kind} {self.name!r}"


def intent_of(method: str, url: str, headers: Any = ()) -> Intent | None:
    """The write a request makes, or None for a read (pure; from method, path and ``Prefer``;
    ``headers`` as httpx.Headers or (name, value) pairs)."""
    method = method.upper()
    path = httpx.URL(url).path
    if match := _REST.search(path):
        rest = unquote(match["rest"]).strip("/")
        if rest.startswith("rpc/"):
            return Intent("rest", "rpc", rest[4:]) if method == "POST" else None
        prefer = ",".join(httpx.Headers(headers if isinstance(headers, httpx.Headers)
                                        else list(headers or ())).get_list("prefer"))
        action = {"POST": "upsert" if "resolution=" in prefer else "insert", "PUT": "upsert",
                  "PATCH": "update", "DELETE": "delete"}.get(method)
        return Intent("rest", action, rest) if action and rest else None
    if match := _STORAGE.search(path):
        return _storage_intent(method, unquote(match["rest"]).strip("/"))
    return None


def _storage_intent(method: str, rest: str) -> Intent | None:
    parts = rest.split("/")
    if method in ("GET", "HEAD") or parts[0] not in ("object", "bucket"):
        return None
    if parts[0] == "bucket":
        return Intent("storage", "bucket", parts[1] if len(parts) > 1 else "(new)")
    if parts[1:2] in (["move"], ["copy"]):
        return Intent("storage", parts[1], "(see the request body)")
    if parts[1:2] in (["list"], ["sign"], ["info"], ["public"], ["authenticated"]):
        return None  # POST list / sign: reads
    if parts[1:3] == ["upload", "sign"]:
        return Intent("storage", "upload", "/".join(parts[3:])) if method == "PUT" else None
    target = "/".join(parts[1:])
    action = {"POST": "upload", "PUT": "update", "DELETE": "remove"}.get(method)
    return Intent("storage", action, target) if action else None


def rolled_back(response_headers: Any) -> bool:
    """Did the server say it rolled the request's transaction back (``Preference-Applied``)?"""
    applied = ",".join(v for k, v in response_headers if k.lower() == "preference-applied")
    return "tx=rollback" in applied.replace(" ", "")


@dataclass
class Created:
    """A storage object the kit created for one mode, and the name the operation asked for."""

    mode: str
    bucket: str
    path: str
    asked: str
    kept: bool = False  # uploaded under the name asked for (storage_names="upsert"), absent before


@dataclass
class WritePolicy:
    """How one diff's requests may write; see the module docstring."""

    target: Any
    allow_writes: bool = False
    storage_names: str = "rename"
    created: list[Created] = field(default_factory=list)
    refused: WritesRefused | None = None
    existed: dict[str, bool | None] = field(default_factory=dict)  # bucket/name → before the diff
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.storage_names not in STORAGE_NAMES:
            raise UsageError(f"storage_names={self.storage_names!r}",
                             fix=f"use one of: {', '.join(STORAGE_NAMES)}")

    @property
    def renames(self) -> dict[str, str]:
        """``bucket/kit_<mode>_<n>_name`` → ``bucket/name`` (and bare paths), for comparing results."""
        found: dict[str, str] = {}
        for c in self.created:
            if c.path != c.asked:
                found[f"{c.bucket}/{c.path}"] = f"{c.bucket}/{c.asked}"
                found[c.path] = c.asked
        return found

    def prepare(self, request: httpx.Request) -> httpx.Request:
        """The request as it will be sent, or WritesRefused (recorded in ``refused``)."""
        if not _REST.search(request.url.path) and not _STORAGE.search(request.url.path):
            return request
        intent = intent_of(request.method, str(request.url), request.headers)
        if _REST.search(request.url.path):
            prefer = request.headers.get_list("prefer")
            request.headers["Prefer"] = ",".join([*prefer, "tx=rollback"])
        if intent is None:
            return self._to_own_copy(request)
        renamed = None
        if self._upload(request, intent):
            if self.storage_names == "upsert":
                self._keep_name(request, intent)  # an object that was there: refused first
                self._guard(intent)
                return request
            renamed = self._rename(request, intent)
        if renamed is None:
            self._guard(intent)
        return request

    @staticmethod
    def _upload(request: httpx.Request, intent: Intent | None) -> bool:
        return intent is not None and intent.service == "storage" and intent.action == "upload" \
            and "/upload/sign/" not in request.url.path

    def probe_for(self, request: httpx.Request) -> httpx.Request | None:
        """For an upload under its own name (``storage_names="upsert"``) whose name the kit has
        not asked about yet: the request that asks Storage whether it exists (the caller sends
        it, sync or async, and gives the status to ``probed``); else None."""
        if self.storage_names != "upsert" or not _STORAGE.search(request.url.path):
            return None
        intent = intent_of(request.method, str(request.url), request.headers)
        if not self._upload(request, intent) or intent.name in self.existed:  # type: ignore[union-attr]
            return None
        prefix = request.url.path[: request.url.path.index("/object/") + len("/object/")]
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("apikey", "authorization")}
        info = request.url.copy_with(path=prefix + "info/" + quote(intent.name), query=None)  # type: ignore[union-attr]
        return httpx.Request("GET", info, headers=headers, extensions={"kit_probe": intent.name})  # type: ignore[union-attr]

    def probed(self, probe: httpx.Request, status: int | None) -> None:
        """What the existence probe answered: 200 it existed, 400/404 it did not, else unknown.
        The first answer for a name holds (a copy running beside may have uploaded it since)."""
        existed = True if status == 200 else False if status in (400, 404) else None
        with self._lock:
            self.existed.setdefault(probe.extensions["kit_probe"], existed)

    def _keep_name(self, request: httpx.Request, intent: Intent) -> None:
        existed = self.existed.get(intent.name)
        if existed is False:
            request.headers["x-upsert"] = "true"  # copies running beside write the same name
            bucket, _, path = intent.name.partition("/")
            created = Created(current_mode.get() or "call", bucket, path, path, kept=True)
            request.extensions = {**request.extensions, "kit_created": created}
            return
        if getattr(self.target, "is_embedded", False):
            request.headers["x-upsert"] = "true"  # the kit's own stack: overwritten, left in place
            return
        why = ("it existed before the diff" if existed else
               "the kit could not tell whether it exists (Storage did not answer its info request)")
        error = WritesRefused(
            f"refusing to upload {intent.subject} under its own name (storage_names='upsert') on "
            f"the {self.target.kind} target {self.target.url}: {why}, and the kit never replaces "
            "or deletes an object it did not create",
            fix="use storage_names='rename' (the default: each mode uploads under its own kit_ "
                "name, removed afterwards) or a name that does not exist yet")
        self.refused = self.refused or error
        raise error

    def answered(self, request: httpx.Request, response: httpx.Response, created: Created | None) -> None:
        if created is not None and response.status_code < 300:
            with self._lock:
                self.created.append(created)

    def _rename(self, request: httpx.Request, intent: Intent) -> Created:
        bucket, _, asked = intent.name.partition("/")
        folder, _, base = asked.rpartition("/")
        mode = re.sub(r"[^A-Za-z0-9_-]", "_", current_mode.get() or "call")
        own = f"{folder + '/' if folder else ''}{KIT_PREFIX}{mode}_{next(self._seq)}_{base}"
        prefix = request.url.path[: request.url.path.index("/object/") + len("/object/")]
        request.url = request.url.copy_with(path=prefix + quote(f"{bucket}/{own}"))
        created = Created(mode, bucket, own, asked)
        request.extensions = {**request.extensions, "kit_created": created}
        return created

    def _to_own_copy(self, request: httpx.Request) -> httpx.Request:
        """A read of a name this mode uploaded under a kit_ name goes to that copy."""
        mode = re.sub(r"[^A-Za-z0-9_-]", "_", current_mode.get() or "call")
        path = unquote(request.url.path)
        for c in reversed(self.created):
            asked = f"/{c.bucket}/{c.asked}"
            if c.mode == mode and c.path != c.asked and path.endswith(asked):
                own = path[: len(path) - len(asked)] + f"/{c.bucket}/{c.path}"
                request.url = request.url.copy_with(path=quote(own))
                break
        return request

    def _guard(self, intent: Intent) -> None:
        if self.allow_writes or getattr(self.target, "is_embedded", False):
            return
        names = [part for part in intent.name.split("/") if part]
        if names and all(part.startswith(KIT_PREFIX) for part in names[:1] + names[-1:]):
            return
        error = WritesRefused(
            f"refusing to write ({intent.action}) to {intent.subject} on the {self.target.kind} "
            f"target {self.target.url}: the kit writes only to what it created (kit_ names)",
            fix="pass allow_writes=True (a notebook and profile parameter) to let it write there")
        self.refused = self.refused or error
        raise error

    def remove_created(self, mode: str) -> list[str]:
        """Delete the storage objects the kit created for ``mode`` (kit_ names, and names kept
        with ``storage_names="upsert"`` that did not exist before); their names."""
        mine = [c for c in self.created if c.mode == mode and (c.path != c.asked or c.kept)]
        by_bucket: dict[str, list[str]] = {}
        for c in mine:
            assert c.path.rpartition("/")[2].startswith(KIT_PREFIX) or (
                c.kept and self.existed.get(f"{c.bucket}/{c.path}") is False)
            if c.path not in by_bucket.get(c.bucket, []):
                by_bucket.setdefault(c.bucket, []).append(c.path)
        if not by_bucket:
            return []
        key = self.target.service_role_key or self.target.anon_key
        removed: list[str] = []
        with httpx.Client(timeout=60, headers={"apikey": key, "Authorization": f"Bearer {key}"}) as http:
            for bucket, paths in by_bucket.items():
                answer = http.request("DELETE", f"{self.target.url}/storage/v1/object/{quote(bucket)}",
                                      json={"prefixes": paths})
                if answer.status_code < 300:
                    removed += [f"{bucket}/{p}" for p in paths]
        return removed


class PolicyTransport(httpx.BaseTransport):
    """Applies a WritePolicy to every request of a sync client (outside the recording)."""

    def __init__(self, inner: httpx.BaseTransport, policy: WritePolicy) -> None:
        self.inner, self.policy = inner, policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        probe = self.policy.probe_for(request)
        if probe is not None:
            with httpx.Client(timeout=30) as http:
                self.policy.probed(probe, _status(lambda: http.send(probe)))
        request = self.policy.prepare(request)
        response = self.inner.handle_request(request)
        self.policy.answered(request, response, request.extensions.get("kit_created"))
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncPolicyTransport(httpx.AsyncBaseTransport):
    """The async twin of ``PolicyTransport``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, policy: WritePolicy) -> None:
        self.inner, self.policy = inner, policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        probe = self.policy.probe_for(request)
        if probe is not None:  # awaited: the loop runs on while Storage answers
            async with httpx.AsyncClient(timeout=30) as http:
                try:
                    status: int | None = (await http.send(probe)).status_code
                except httpx.HTTPError:
                    status = None
            self.policy.probed(probe, status)
        request = self.policy.prepare(request)
        response = await self.inner.handle_async_request(request)
        self.policy.answered(request, response, request.extensions.get("kit_created"))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _status(send: Any) -> int | None:
    try:
        return int(send().status_code)
    except httpx.HTTPError:
        return None

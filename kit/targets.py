"""Targets: where a Supabase project lives and the keys to reach it.

    kit.target()                      # the embedded stack (started or reused)
    kit.target("local")               # `supabase start`'s stack (CLI status, else env vars)
    kit.target("remote")              # SUPABASE_URL + SUPABASE_KEY from the environment

A ``Target`` never shows its keys: its repr, its display and its ``describe()`` mask them.
Keys come from the environment or the stack, never from parameters: a parameter lands in
papermill's output notebook. Only the *names* of the variables are parameters.
"""

from __future__ import annotations

import dataclasses

import base64
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from kit.errors import TargetError, UsageError

__all__ = ["Target", "TargetKind", "check_target", "mask_secret", "target"]

TargetKind = Literal["embedded", "local", "remote"]


def mask_secret(value: str | None) -> str:
    """``eyJhbGciOi…`` → ``eyJ…(208 chars)``: enough to tell keys apart, never enough to use."""
    if not value:
        return "(none)"
    return f"{value[:3]}…({len(value)} chars)"


@dataclass(frozen=True)
class Target:
    """A Supabase project the kit talks to: ``Target("embedded", url, anon_key, service_role_key)``."""

    kind: TargetKind
    url: str
    anon_key: str = field(repr=False)
    service_role_key: str | None = field(default=None, repr=False)
    database_url: str | None = field(default=None, repr=False)
    jwt_secret: str | None = field(default=None, repr=False)
    key_source: str = ""  # e.g. "env SUPABASE_KEY": where the key came from, for error messages
    url_source: str = ""  # e.g. "env SUPABASE_URL"

    @property
    def key(self) -> str:
        """The most privileged key available (service_role when known)."""
        return self.service_role_key or self.anon_key

    @property
    def is_embedded(self) -> bool:
        return self.kind == "embedded"

    def describe(self) -> dict[str, Any]:
        """JSON-able description with keys masked, for reports and displays."""
        return {"kind": self.kind, "url": self.url, "anon_key": mask_secret(self.anon_key),
                "service_role_key": mask_secret(self.service_role_key)}

    def __repr__(self) -> str:
        return f"<Target {self.kind} {self.url}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td><code>{v}</code></td></tr>"
                       for k, v in self.describe().items())
        return {"text/plain": repr(self), "text/html": f"<table>{rows}</table>"}


LOCAL_DEFAULT_URL = "http://127.0.0.1:54321"
_URL = re.compile(r"^https?://[^/\s?#]+(/[^\s?#]*)?$")


def target(kind: TargetKind = "embedded", *, url_env: str = "SUPABASE_URL",
           key_env: str = "SUPABASE_KEY", anon_key_env: str = "SUPABASE_ANON_KEY",
           db_url_env: str = "SUPABASE_DB_URL",
           env: Mapping[str, str] | None = None, data_dir: str | os.PathLike[str] | None = None,
           check: bool = True) -> Target:
    """Where the kit's clients go. Keys are read from the environment, never passed in.

    ``embedded`` starts or reuses the kit's own stack; ``local`` reads ``supabase status -o
    json`` when the Supabase CLI is on PATH, else the variables (URL defaults to
    http://127.0.0.1:54321); ``remote`` reads the variables. ``key_env`` holds the key to use
    (service_role or anon, told apart by its role claim), ``anon_key_env`` optionally the anon
    key, ``db_url_env`` optionally the database URL (scenarios create their ``kit_`` tables
    through it). ``check`` makes one cheap request so a bad URL or key fails here, with the fix.

    >>> kit.target("remote", url_env="PROD_URL", key_env="PROD_KEY")   # doctest: +SKIP
    <Target remote https://abcd.supabase.co>
    """
    if kind == "embedded":
        from kit.stack import start

        return start(data_dir)
    if kind not in ("local", "remote"):
        raise UsageError(f"unknown target kind {kind!r}",
                         fix="use one of: 'embedded', 'local', 'remote'")
    environ = os.environ if env is None else env
    found = None
    if kind == "local" and shutil.which("supabase", path=environ.get("PATH")):
        found = _from_supabase_cli()
    if found is None:
        found = _from_env(kind, environ, url_env, key_env, anon_key_env)
    if not found.database_url and environ.get(db_url_env, "").strip():
        found = dataclasses.replace(found, database_url=environ[db_url_env].strip())
    return check_target(found) if check else found


def check_target(target: Target, *, timeout: float = 10.0) -> Target:
    """One cheap request (``GET /rest/v1/`` with the key) that turns a refused connection, a
    wrong or expired key, or a URL that is not a Supabase API into one clear TargetError.

    >>> kit.check_target(kit.target("remote", check=False))          # doctest: +SKIP
    <Target remote https://abcd.supabase.co>
    """
    key = target.key
    where = f"{target.url} (from {target.url_source or target.kind})"
    try:
        response = httpx.get(f"{target.url}/rest/v1/", timeout=timeout,
                             headers={"apikey": key, "Authorization": f"Bearer {key}"})
    except httpx.ConnectError as exc:
        raise TargetError(f"cannot connect to {where}: {type(exc).__name__}",
                          fix=_start_fix(target)) from exc
    except httpx.TimeoutException as exc:
        raise TargetError(f"no answer from {where} within {timeout:.0f} s",
                          fix=f"check {target.url_source or 'the URL'} and your network") from exc
    except httpx.HTTPError as exc:
        raise TargetError(f"request to {where} failed: {type(exc).__name__}",
                          fix=f"check {target.url_source or 'the URL'}") from exc
    content_type = response.headers.get("content-type", "")
    if response.status_code in (401, 403):
        message = _error_message(response)
        raise TargetError(f"{target.url} rejected the key from {target.key_source or 'the target'}"
                          f" (HTTP {response.status_code}: {message})",
                          fix=_key_fix(target, message))
    if "text/html" in content_type:
        raise TargetError(f"{where} answered HTTP {response.status_code} with an HTML page, "
                          "not the Supabase API",
                          fix=f"set {target.url_source or 'the URL'} to the project API URL "
                              "(https://<ref>.supabase.co, no path), not a dashboard or site URL")
    if response.status_code >= 500:
        raise TargetError(f"{where} answered HTTP {response.status_code}",
                          fix="the project may be paused or restarting; check its dashboard")
    return target


def _from_env(kind: str, environ: Mapping[str, str], url_env: str, key_env: str,
              anon_key_env: str) -> Target:
    url = environ.get(url_env, "").strip()
    if not url:
        if kind == "remote":
            raise TargetError(f"{url_env} is not set",
                              fix=f"export {url_env}=https://<project-ref>.supabase.co")
        url = LOCAL_DEFAULT_URL
    url = _valid_url(url, url_env)
    key = environ.get(key_env, "").strip()
    if not key:
        raise TargetError(f"{key_env} is not set", fix=f"export {key_env}=<the project's "
                          "service_role or anon key> (local: `supabase status -o json`)")
    role = _key_role(key, key_env)
    anon = environ.get(anon_key_env, "").strip()
    if anon:
        _key_role(anon, anon_key_env)
    anon_key = key if role == "anon" else anon
    service = key if role != "anon" else None
    return Target(kind, url, anon_key, service,  # type: ignore[arg-type]
                  key_source=f"env {key_env}", url_source=f"env {url_env}")


def _from_supabase_cli() -> Target | None:
    try:
        done = subprocess.run(["supabase", "status", "-o", "json"], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()[:1]
        raise TargetError(f"`supabase status` failed: {first[0] if first else done.returncode}",
                          fix="run `supabase start` in your project folder")
    return target_from_cli_status(done.stdout)


def target_from_cli_status(output: str) -> Target:
    """The local target described by ``supabase status -o json``'s output."""
    try:
        status = json.loads(output[output.index("{"):])
    except ValueError as exc:
        raise TargetError("`supabase status -o json` printed no JSON",
                          fix="update the Supabase CLI (>= 1.100) or set SUPABASE_URL/SUPABASE_KEY"
                          ) from exc
    url = _valid_url(status.get("API_URL") or LOCAL_DEFAULT_URL, "API_URL of `supabase status`")
    anon = status.get("ANON_KEY") or status.get("PUBLISHABLE_KEY") or ""
    service = status.get("SERVICE_ROLE_KEY") or status.get("SECRET_KEY")
    if not anon and not service:
        raise TargetError("`supabase status` shows no API keys", fix="run `supabase start`")
    return Target("local", url, anon, service, database_url=status.get("DB_URL"),
                  jwt_secret=status.get("JWT_SECRET"), key_source="`supabase status`",
                  url_source="`supabase status`")


def _valid_url(url: str, source: str) -> str:
    url = url.rstrip("/")
    if url.startswith(("eyJ", "sb_")):
        raise TargetError(f"{source} holds a key, not a URL",
                          fix=f"swap the variables: {source} gets https://<ref>.supabase.co")
    if not _URL.match(url):
        raise TargetError(f"{source} is not an http(s) URL (got {len(url)} characters "
                          f"starting {url[:12]!r})",
                          fix=f"set {source} to the project URL, e.g. https://<ref>.supabase.co")
    for suffix in ("/rest/v1", "/storage/v1", "/auth/v1"):
        if url.endswith(suffix):
            raise TargetError(f"{source} ends with {suffix}",
                              fix=f"set {source} to the project URL without {suffix}")
    return url


def _key_role(key: str, source: str) -> str:
    if key.startswith("sb_secret_"):
        return "service_role"
    if key.startswith("sb_publishable_"):
        return "anon"
    parts = key.split(".")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (IndexError, ValueError) as exc:
        raise TargetError(f"{source} does not hold a Supabase key ({len(key)} characters, "
                          "neither a JWT nor an sb_ key)",
                          fix=f"copy the anon or service_role key into {source}") from exc
    exp = payload.get("exp")
    if isinstance(exp, (int, float)) and exp < time.time():
        raise TargetError(f"the key in {source} expired at {time.strftime('%Y-%m-%d', time.gmtime(exp))}",
                          fix=f"copy a current key from the project settings into {source}")
    return str(payload.get("role", "anon"))


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("message") or body.get("msg") or body.get("error") or "")[:120]
    except ValueError:
        return response.text[:80].strip()


def _key_fix(target: Target, message: str) -> str:
    source = target.key_source.removeprefix("env ") or "the key variable"
    if "expired" in message.lower():
        return f"the JWT has expired: put a current key in {source}"
    return f"put the project's anon or service_role key (Settings → API) in {source}"


def _start_fix(target: Target) -> str:
    if target.kind == "local":
        return "start it with `supabase start` (or set the URL variable to where it runs)"
    return f"check {target.url_source or 'the URL'}; is the project up and the host right?"

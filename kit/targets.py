"""Targets: where a Supabase project lives and the keys to reach it.

    kit.target()                      # the embedded stack (started or reused)
    kit.target("local")               # `supabase start`'s stack: API_URL, SERVICE_ROLE_KEY, ...
    kit.target("remote")              # a hosted project: SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, ...

Each kind reads one documented set of environment variables by default (``ENV_NAMES``):

| kind   | URL          | key (service_role)          | anon key            | database URL      |
|--------|--------------|-----------------------------|---------------------|-------------------|
| local  | API_URL      | SERVICE_ROLE_KEY            | ANON_KEY            | DB_URL            |
| remote | SUPABASE_URL | SUPABASE_SERVICE_ROLE_KEY   | SUPABASE_ANON_KEY   | SUPABASE_DB_URL   |
|        |              | (else SUPABASE_KEY)         | (else SUPABASE_KEY) |                   |

``local`` uses the names ``supabase status -o env`` prints (export them with
``set -a; eval "$(supabase status -o env)"; set +a``); ``remote`` the names hosted projects'
guides use. The ``*_env`` arguments, notebook parameters and profile settings override them.

A ``Target`` never shows its keys: its repr, its display and its ``describe()`` mask them.
Keys come from the environment or the stack, never from parameters: a parameter lands in
papermill's output notebook. Only the *names* of the variables are parameters.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from kit.errors import TargetError, UsageError

if TYPE_CHECKING:
    import httpx

__all__ = ["ENV_NAMES", "EnvNames", "Target", "TargetKind", "check_target", "env_names",
           "mask_secret", "target"]

TargetKind = Literal["embedded", "local", "remote"]


@dataclass(frozen=True)
class EnvNames:
    """The *names* of the environment variables a target kind reads (never their values)."""

    url: str
    key: str
    anon_key: str
    db_url: str
    any_key: str | None = None  # a single-key convention read when ``key`` and ``anon_key`` are unset


ENV_NAMES: dict[str, EnvNames] = {
    "local": EnvNames("API_URL", "SERVICE_ROLE_KEY", "ANON_KEY", "DB_URL"),
    "remote": EnvNames("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_ANON_KEY",
                       "SUPABASE_DB_URL", any_key="SUPABASE_KEY"),
}
ENV_NAMES["embedded"] = ENV_NAMES["remote"]  # what the report runner exports for its stack


def env_names(kind: str, *, url_env: str | None = None, key_env: str | None = None,
              anon_key_env: str | None = None, db_url_env: str | None = None) -> EnvNames:
    """The kind's default names with the given ones put in: ``env_names("local").url == "API_URL"``."""
    base = ENV_NAMES.get(kind, ENV_NAMES["remote"])
    return EnvNames(url_env or base.url, key_env or base.key, anon_key_env or base.anon_key,
                    db_url_env or base.db_url, None if key_env else base.any_key)


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
    stack_dir: str | None = None  # the embedded stack's data directory

    @property
    def key(self) -> str:
        """The most privileged key available (service_role when known)."""
        return self.service_role_key or self.anon_key

    @property
    def is_embedded(self) -> bool:
        return self.kind == "embedded"

    def describe(self) -> dict[str, Any]:
        """JSON-able description with keys masked, for reports and displays."""
        described = {"kind": self.kind, "url": self.url, "anon_key": mask_secret(self.anon_key),
                     "service_role_key": mask_secret(self.service_role_key)}
        if self.stack_dir:
            described["stack_dir"] = self.stack_dir
        return described

    def __repr__(self) -> str:
        return f"<Target {self.kind} {self.url}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td><code>{v}</code></td></tr>"
                       for k, v in self.describe().items())
        return {"text/plain": repr(self), "text/html": f"<table>{rows}</table>"}


LOCAL_DEFAULT_URL = "http://127.0.0.1:54321"
_URL = re.compile(r"^https?://[^/\s?#]+(/[^\s?#]*)?$")


def target(kind: TargetKind = "embedded", *, url_env: str | None = None,
           key_env: str | None = None, anon_key_env: str | None = None,
           db_url_env: str | None = None, env: Mapping[str, str] | None = None,
           stack_dir: str | os.PathLike[str] | None = None,
           data_dir: str | os.PathLike[str] | None = None, check: bool = True) -> Target:
    """Where the kit's clients go. Keys are read from the environment, never passed in.

    ``embedded`` starts or reuses the kit's own stack (``stack_dir``, else ``KIT_STACK_DIR``,
    else the nearest ``.kit/stack``; it says which one it uses); ``local`` reads the variables
    ``supabase status -o env`` exports (URL defaults to http://127.0.0.1:54321), or ``supabase
    status -o json`` when they are unset and the CLI is on PATH; ``remote`` reads the hosted
    names. Unset ``*_env`` arguments take the kind's defaults (``ENV_NAMES``, module
    docstring). ``key_env`` holds the key to use (service_role or anon, told apart by its role
    claim), ``anon_key_env`` the anon key, ``db_url_env`` the database URL (scenarios create
    their ``kit_`` tables through it). ``check`` makes one cheap request so a bad URL or key
    fails here (TargetError naming the variable and the fix).

    >>> kit.target("remote", url_env="PROD_URL", key_env="PROD_KEY")   # doctest: +SKIP
    <Target remote https://abcd.supabase.co>
    """
    if kind == "embedded":
        from kit.stack import start

        return start(stack_dir if stack_dir is not None else data_dir)
    if kind not in ("local", "remote"):
        raise UsageError(f"unknown target kind {kind!r}",
                         fix="use one of: 'embedded', 'local', 'remote'")
    environ = os.environ if env is None else env
    names = env_names(kind, url_env=url_env, key_env=key_env, anon_key_env=anon_key_env,
                      db_url_env=db_url_env)
    found = None
    if (kind == "local" and not environ.get(names.key, "").strip()
            and shutil.which("supabase", path=environ.get("PATH"))):
        found = _from_supabase_cli()
    if found is None:
        found = _from_env(kind, environ, names)
    if not found.database_url and environ.get(names.db_url, "").strip():
        found = dataclasses.replace(found, database_url=environ[names.db_url].strip())
    return check_target(found) if check else found


def check_target(target: Target, *, timeout: float = 10.0) -> Target:
    """One cheap request (``GET /rest/v1/`` with the key) that turns a refused connection, a
    wrong or expired key, or a URL that is not a Supabase API into one clear TargetError.

    >>> kit.check_target(kit.target("remote", check=False))          # doctest: +SKIP
    <Target remote https://abcd.supabase.co>
    """
    import httpx  # here, not at the top: the stack's server process imports this module

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


def _from_env(kind: str, environ: Mapping[str, str], names: EnvNames) -> Target:
    url_env = names.url
    url = environ.get(url_env, "").strip()
    if not url:
        if kind == "remote":
            raise TargetError(f"{url_env} is not set",
                              fix=f"export {url_env}=https://<project-ref>.supabase.co")
        url = LOCAL_DEFAULT_URL
    url = _valid_url(url, url_env)
    key_env = names.key
    if not environ.get(key_env, "").strip() and names.any_key and environ.get(names.any_key, "").strip():
        key_env = names.any_key
    anon_key_env = names.anon_key
    key = environ.get(key_env, "").strip() or environ.get(anon_key_env, "").strip()
    if not key:
        where = ("(`set -a; eval \"$(supabase status -o env)\"; set +a` exports it)" if kind == "local"
                 else "(Project Settings → API)")
        raise TargetError(f"{key_env} is not set", fix=f"export {key_env}=<the project's "
                          f"service_role key> {where}, or set {anon_key_env} to the anon key")
    if not environ.get(key_env, "").strip():
        key_env = anon_key_env
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
                          fix="update the Supabase CLI (>= 1.100) or export API_URL and "
                              "SERVICE_ROLE_KEY (`set -a; eval \"$(supabase status -o env)\"; set +a`)"
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

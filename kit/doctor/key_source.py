"""Where a Supabase URL or key comes from, for the kind of target the app points at: the
kit's embedded stack (``kit stack status``), a Supabase CLI project (``supabase status -o
env``), or a hosted project (the dashboard's API settings).

    target = supabase_target(app, "http://127.0.0.1:54321")   # Target("cli", ...)
    target.source_of("SUPABASE_SERVICE_ROLE_KEY")   # "`supabase status -o env` in /app prints it as SERVICE_ROLE_KEY"

How the kind is told (in this order): a URL whose host is not this machine is hosted; a local
URL on the port of the embedded stack the app's folder uses (``KIT_STACK_DIR`` or the nearest
``.kit/stack``, as ``kit.stack`` finds it) is that stack; a local URL on 54321 (the CLI's API
port) or an app with ``supabase/config.toml`` (``supabase init``) is the CLI's; with no URL, an
embedded stack found for the folder, then a CLI project. Otherwise every source is named.
Facts: ``supabase status -o env`` prints API_URL, ANON_KEY, SERVICE_ROLE_KEY (Supabase CLI);
the dashboard shows both keys under Project Settings → API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from kit.doctor.project import AppProject
from kit.doctor.supabase_keys import expected_role, is_local, url_ref

__all__ = ["KeySource", "supabase_target"]

CLI_API_PORT = 54321
Kind = Literal["embedded", "cli", "remote", "unknown"]


@dataclass(frozen=True)
class KeySource:
    """The target kind, and what says so (``"the kit's embedded stack at http://..."``)."""

    kind: Kind
    detail: str = ""
    url: str | None = None

    def source_of(self, variable: str) -> str:
        """Where to copy ``variable``'s value from, as one clause."""
        role = expected_role(variable)
        key = "URL" not in variable.upper()
        if self.kind == "embedded":
            label = ("the URL" if not key else "the service_role key" if role == "service_role"
                     else "the anon key" if role == "anon" else "the anon or service_role key")
            return f"`kit stack status` prints {label} of {self.detail}"
        if self.kind == "cli":
            name = ("API_URL" if not key else "SERVICE_ROLE_KEY" if role == "service_role"
                    else "ANON_KEY" if role == "anon" else "ANON_KEY or SERVICE_ROLE_KEY")
            return f"`supabase status -o env` prints it as {name} ({self.detail})"
        if self.kind == "remote":
            page = "Project URL" if not key else "API keys"
            return f"the dashboard's Project Settings → API, {page} ({self.detail})"
        return ("`kit stack status` for the kit's embedded stack, `supabase status -o env` for a "
                "Supabase CLI project, Project Settings → API in the dashboard when hosted")


    def start_fix(self) -> str:
        """How to bring this target's API up when nothing answers at its URL."""
        return {"embedded": "start it again: `kit stack up` (then `kit stack status`)",
                "cli": "`supabase start` in the project folder, or fix the URL variable",
                "remote": "open the project in the dashboard (a paused project must be restored), "
                          "or fix the URL variable"}.get(
            self.kind, "start the stack (`kit stack up` for the kit's embedded stack, `supabase "
                       "start` for a Supabase CLI project) or fix the URL variable")


def _embedded_url(app: AppProject) -> str | None:
    from kit.stack.state import StackState, resolve_data_dir, state_path

    state = StackState.read(state_path(resolve_data_dir(env=app.env, cwd=app.root)))
    return state.url if state else None


def _port(url: str) -> int | None:
    try:
        parts = urlsplit(url)
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


def supabase_target(app: AppProject, url: str | None) -> KeySource:
    """The kind of target ``url`` (the app's Supabase URL, None when unset) points at."""
    cli_project = (app.root / "supabase" / "config.toml").is_file()
    cli = KeySource("cli", f"the Supabase CLI project in {app.root}" if cli_project else
                    f"the Supabase CLI's local API port {CLI_API_PORT}", url)
    embedded = _embedded_url(app)
    if url and url.startswith(("http://", "https://")):
        if not is_local(url):
            ref = url_ref(url)
            return KeySource("remote", f"https://supabase.com/dashboard/project/{ref}/settings/api"
                             if ref else f"the project at {urlsplit(url).hostname}", url)
        if embedded and _port(embedded) == _port(url):
            return KeySource("embedded", f"the kit's embedded stack at {embedded}", url)
        if _port(url) == CLI_API_PORT or cli_project:
            return cli
        return KeySource("unknown", url=url)
    if embedded:
        return KeySource("embedded", f"the kit's embedded stack at {embedded}", embedded)
    return cli if cli_project else KeySource("unknown")

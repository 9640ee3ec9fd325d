"""The embedded Auth service's settings: what is enabled, how long tokens live.

Kept in ``<data dir>/auth.json`` (written by ``kit stack up --auth-... `` or
``kit.stack.start(auth={...})``, read once when the stack process starts). Names follow
``supabase/config.toml``'s ``[auth]`` section; the defaults are those of ``supabase start``
(confirmations off, JWT expiry 3600 s, minimum password length 6, one email a second,
refresh-token reuse interval 10 s, sessions without a time box), except two choices for a local debugging stack:
anonymous sign-ins are on, and bcrypt hashes with cost 4 (bcrypt's minimum; hosted Supabase
uses 10, ~25 times slower: ``password_hash_cost`` sets it, hashes of any cost verify).

    settings = AuthSettings.load(data_dir)        # AuthSettings(mailer_autoconfirm=True, ...)
    AuthSettings.from_options({"jwt_expiry": 600})  # UsageError for an unknown name or a bad value
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kit.errors import UsageError

FILE_NAME = "auth.json"


@dataclass(frozen=True)
class AuthSettings:
    """Settings of ``/auth/v1``; every field can be given to ``kit stack up --auth NAME=VALUE``."""

    disable_signup: bool = False
    mailer_autoconfirm: bool = True
    anonymous_users: bool = True
    jwt_expiry: int = 3600
    minimum_password_length: int = 6
    password_hash_cost: int = 4
    refresh_token_rotation: bool = True
    refresh_token_reuse_interval: int = 10
    session_timebox: int = 0
    email_max_frequency: int = 1
    otp_length: int = 6
    otp_expiry: int = 3600
    site_url: str = "http://127.0.0.1:3000"
    additional_redirect_urls: str = "https://127.0.0.1:3000"  # comma-separated globs

    def redirect_allowed(self, url: str) -> bool:
        """GoTrue's ``IsRedirectURLValid``: the site's own scheme and host (any port on a
        loopback host), any loopback IP, or a match of ``additional_redirect_urls``."""
        if not url:
            return False
        base, target = urlsplit(self.site_url), urlsplit(url)
        host = target.hostname or ""
        if base.hostname == host and base.scheme == target.scheme and (
                base.port == target.port or host in ("localhost", "127.0.0.1", "::1")):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            pass
        without_fragment = url.split("#", 1)[0]
        return any(fnmatch.fnmatchcase(without_fragment, pattern.strip())
                   for pattern in self.additional_redirect_urls.split(",") if pattern.strip())

    @classmethod
    def from_options(cls, options: dict[str, Any], base: AuthSettings | None = None) -> AuthSettings:
        """Settings with ``options`` applied over ``base``; string values are parsed (``"off"``, ``"600"``)."""
        known = {f.name: f.type for f in fields(cls)}
        changes: dict[str, Any] = {}
        for name, value in options.items():
            if name not in known:
                raise UsageError(f"unknown auth setting {name!r}",
                                 fix="use one of " + ", ".join(sorted(known)))
            changes[name] = _parse(name, str(known[name]), value)
        settings = replace(base or cls(), **changes)
        if not 4 <= settings.password_hash_cost <= 16:
            raise UsageError(f"password_hash_cost {settings.password_hash_cost} is outside bcrypt's 4..16",
                             fix="pass a cost from 4 (fast, local) to 16")
        return settings

    @classmethod
    def load(cls, data_dir: Path) -> AuthSettings:
        """The settings of a data directory (defaults when it has no ``auth.json``)."""
        path = data_dir / FILE_NAME
        if not path.exists():
            return cls()
        try:
            return cls.from_options(json.loads(path.read_text()))
        except ValueError as exc:
            raise UsageError(f"{path} is not valid JSON: {exc}", fix="correct or delete the file") from exc

    def save(self, data_dir: Path) -> Path:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / FILE_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)
        return path

    def public(self) -> dict[str, Any]:
        """``GET /settings`` as Supabase Auth answers it: only email and anonymous sign-ins exist here."""
        providers = dict.fromkeys(_EXTERNAL_PROVIDERS, False)
        providers.update(email=True, anonymous_users=self.anonymous_users)
        return {"external": providers, "disable_signup": self.disable_signup,
                "mailer_autoconfirm": self.mailer_autoconfirm, "phone_autoconfirm": False,
                "sms_provider": "", "saml_enabled": False, "saml_private_key_next_configured": False,
                "passkeys_enabled": False}


_EXTERNAL_PROVIDERS = ("anonymous_users", "apple", "azure", "bitbucket", "discord", "facebook",
                       "snapchat", "figma", "fly", "github", "gitlab", "google", "keycloak", "kakao",
                       "linkedin", "linkedin_oidc", "notion", "spotify", "slack", "slack_oidc", "workos",
                       "twitch", "twitter", "email", "phone", "zoom")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _parse(name: str, kind: str, value: Any) -> Any:
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise UsageError(f"auth setting {name} must be on or off, not {value!r}",
                         fix=f"pass {name}=on or {name}=off")
    if kind == "int":
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise UsageError(f"auth setting {name} must be a whole number, not {value!r}",
                             fix=f"pass for example {name}=60") from None
        if number < 0:
            raise UsageError(f"auth setting {name} cannot be negative ({number})", fix="pass 0 or more")
        return number
    return str(value)

"""What every /auth/v1 handler shares: settings, keys, the database, the outbox.

    auth = service_of(request)                     # AuthService
    params = await read_params(request)            # the JSON body, or 400 bad_json
    user = await auth.send_mail(conn, user, "signup", request)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request

from kit.stack.auth import store
from kit.stack.auth.mailer import TOKEN_COLUMNS, Outbox, check_frequency, new_otp, token_hash
from kit.stack.auth.problems import bad_json
from kit.stack.auth.settings import AuthSettings
from kit.stack.auth.store import Conn, Row
from kit.stack.auth.tokens import issuer
from kit.stack.keys import Keys
from kit.stack.request_input import BadInput, parse_json, text_problem

AUDIENCE = "authenticated"


@dataclass
class AuthService:
    settings: AuthSettings
    keys: Keys
    store: store.AuthStore
    outbox: Outbox

    async def send_mail(self, conn: Conn, user: Row, kind: str, request: Request, *,
                        redirect_to: str | None = None, to: str | None = None,
                        pkce: bool = False) -> Row:
        """Store a new one-time token of ``kind`` on the user and mail its code and link
        (a PKCE flow's token is stored and linked as ``pkce_<hash>``)."""
        token_column, sent_column = TOKEN_COLUMNS[kind]
        check_frequency(user.get(sent_column), self.settings.email_max_frequency)
        address = to or user["email"]
        otp = new_otp(self.settings.otp_length)
        hashed = ("pkce_" if pkce else "") + token_hash(address, otp)
        now = datetime.now(timezone.utc)
        changes: dict[str, Any] = {token_column: hashed, sent_column: now}
        if kind == "invite":
            changes["invited_at"] = now
        user = await store.update_user(conn, user["id"], **changes)
        self.outbox.send(kind, address, otp, hashed, issuer(request), redirect_to or self.redirect_of(request))
        return user

    def redirect_of(self, request: Request) -> str:
        """Where a mailed link leads: an allowed ``redirect_to``, else the site URL (``GetReferrer``)."""
        wanted = request.query_params.get("redirect_to") or ""
        return wanted if self.settings.redirect_allowed(wanted) else self.settings.site_url


def service_of(request: Request) -> AuthService:
    return request.app.state.auth


async def read_params(request: Request) -> dict[str, Any]:
    """The request's JSON object (GoTrue's ``retrieveRequestParams``); an empty body is ``{}``."""
    body = await request.body()
    if not body.strip():
        return {}
    try:
        value = parse_json(body)
    except BadInput as exc:  # the stack's one boundary for hostile input (kit.stack.request_input)
        raise bad_json(str(exc)) from None
    if not isinstance(value, dict):
        raise bad_json(f"expected a JSON object, got {type(value).__name__}")
    problem = text_problem(value)
    if problem:
        raise bad_json(f"a value {problem}")
    return value


def text(params: dict[str, Any], name: str) -> str:
    """A string parameter, ``""`` when missing or null."""
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""


def mapping(params: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = params.get(name)
    return value if isinstance(value, dict) else None

"""PKCE flows (supabase-py's default ``flow_type="pkce"``), as Supabase Auth runs them.

Facts from Supabase Auth (internal/api/pkce.go, internal/models/flow_state.go,
internal/security/pkce.go): a request carrying ``code_challenge`` + ``code_challenge_method``
(``s256`` or ``plain``; 43 to 128 characters of ``[a-zA-Z0-9._~-]``) starts a flow state; the
mailed token is stored as ``pkce_<hash>``; opening the link redirects to ``redirect_to?code=<auth
code>`` instead of a session fragment; ``POST /token?grant_type=pkce`` with the code and the
verifier answers the session. The flow state lasts 300 s (a magic link's from when its code
was issued); errors: 404 ``flow_state_not_found``, 422 ``flow_state_expired``, 400
``bad_code_verifier``.

    challenge = pkce_challenge(params)        # ("…", "s256") or None
    await start_flow(conn, user_id, "magiclink", challenge)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kit.stack.auth import store, tokens
from kit.stack.auth.problems import AuthProblem, validation
from kit.stack.auth.service import AuthService, text

PREFIX = "pkce_"
FLOW_STATE_LIFETIME = timedelta(seconds=300)
_CHALLENGE = re.compile(r"^[a-zA-Z._~0-9-]+$")
# the verification type of a mail → the flow's authentication method
METHODS = {"signup": "email/signup", "magiclink": "magiclink", "recovery": "recovery",
           "invite": "invite", "email_change": "email_change"}


def pkce_challenge(params: dict[str, Any]) -> tuple[str, str] | None:
    """``(code_challenge, method)`` of a request, ``None`` for the implicit flow (``validatePKCEParams``)."""
    challenge, method = text(params, "code_challenge"), text(params, "code_challenge_method")
    if bool(challenge) != bool(method):
        raise validation("PKCE flow requires code_challenge_method and code_challenge")
    if not challenge:
        return None
    if not 43 <= len(challenge) <= 128:
        raise validation("code challenge has to be between 43 and 128 characters")
    if not _CHALLENGE.match(challenge):
        raise validation("code challenge can only contain alphanumeric characters, hyphens, periods, "
                         "underscores and tildes")
    if method.lower() not in ("s256", "plain"):
        raise validation(f'unsupported code_challenge method "{method}"')
    return challenge, method.lower()


async def start_flow(conn: store.Conn, user_id: uuid.UUID, method: str,
                     challenge: tuple[str, str] | None) -> None:
    if challenge is not None:
        await conn.execute(
            "INSERT INTO auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge, "
            "provider_type, authentication_method) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (str(uuid.uuid4()), str(user_id), str(uuid.uuid4()), challenge[1], challenge[0], method, method))


async def issue_code(conn: store.Conn, user_id: uuid.UUID, kind: str) -> str:
    """The auth code of the user's latest flow for ``kind`` (``issueAuthCode``)."""
    row = await store.fetch_one(
        conn, "UPDATE auth.flow_state SET auth_code_issued_at = now(), updated_at = now() WHERE id = "
              "(SELECT id FROM auth.flow_state WHERE user_id = %s AND authentication_method = %s "
              "ORDER BY created_at DESC LIMIT 1) RETURNING auth_code", (str(user_id), METHODS.get(kind, kind)))
    if row is None:
        raise AuthProblem(422, "flow_state_not_found", "No valid flow state found for user.")
    return str(row["auth_code"])


def verifier_matches(challenge: str, method: str, verifier: str) -> bool:
    if method == "s256":
        digest = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(challenge.encode(), verifier.encode())


async def pkce_grant(auth: AuthService, params: dict[str, Any], request: Request) -> Response:
    """``POST /token?grant_type=pkce``: the auth code and its verifier for a session."""
    code, verifier = text(params, "auth_code"), text(params, "code_verifier")
    if not code or not verifier:
        raise validation("invalid request: both auth code and code verifier should be non-empty")
    async with auth.store.transaction() as conn:
        flow = await store.fetch_one(conn, "SELECT * FROM auth.flow_state WHERE auth_code = %s FOR UPDATE",
                                     (code,))
        if flow is None or flow["user_id"] is None:
            raise AuthProblem(404, "flow_state_not_found", "invalid flow state, no valid flow state found")
        started = flow["auth_code_issued_at"] if flow["authentication_method"] == "magiclink" and \
            flow["auth_code_issued_at"] else flow["created_at"]
        if datetime.now(timezone.utc) > started + FLOW_STATE_LIFETIME:
            raise AuthProblem(422, "flow_state_expired", "invalid flow state, flow state has expired")
        if not verifier_matches(flow["code_challenge"], flow["code_challenge_method"], verifier):
            raise AuthProblem(400, "bad_code_verifier",
                              "code challenge does not match previously saved code verifier")
        user = await store.find_user(conn, user_id=flow["user_id"])
        if user is None:
            raise AuthProblem(404, "user_not_found", "User not found")
        await conn.execute("DELETE FROM auth.flow_state WHERE id = %s", (str(flow["id"]),))
        answer = await tokens.issue_session(auth, conn, user, flow["authentication_method"], request)
        return JSONResponse(answer)

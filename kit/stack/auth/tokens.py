"""Sessions, access tokens and refresh tokens, as Supabase Auth issues and rotates them.

Facts from Supabase Auth (internal/tokens/service.go, internal/models/refresh_token.go):

- an access token is an HS256 JWT with ``aud, exp, iat, iss, sub, email, phone, app_metadata,
  user_metadata, role, aal, amr, session_id, is_anonymous``; ``iss`` is ``<API URL>/auth/v1``;
- a refresh token is 12 random alphanumerics, used once: each refresh revokes it and issues
  its child; a revoked token reused within ``refresh_token_reuse_interval`` seconds gets the
  session's current token back (a client that lost the answer), after it the reuse is an
  attack: the session is ended and the answer is 400 ``refresh_token_already_used``;
- a bearer token that fails verification is 403 ``bad_jwt``; a token whose session was
  logged out is 403 ``session_not_found``.

    answer = await issue_session(auth, conn, user, "password", request)   # AccessTokenResponse dict
"""

from __future__ import annotations

import secrets
import string
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import jwt
from starlette.requests import Request

from kit.stack.auth import store
from kit.stack.auth.problems import AuthProblem
from kit.stack.auth.users import is_banned, user_json

if TYPE_CHECKING:
    from kit.stack.auth.service import AuthService

_ALPHANUMERIC = string.ascii_letters + string.digits
ADMIN_ROLES = ("service_role", "supabase_admin")


def issuer(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/auth/v1"


def new_refresh_token() -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(12))


def access_token(auth: AuthService, user: store.Row, session_id: uuid.UUID, amr: list[dict[str, Any]],
                 request: Request) -> tuple[str, int]:
    """The signed access token and its ``exp``."""
    now = int(time.time())
    exp = now + auth.settings.jwt_expiry
    claims = {"iss": issuer(request), "sub": str(user["id"]), "aud": user.get("aud") or "authenticated",
              "exp": exp, "iat": now, "email": user.get("email") or "", "phone": user.get("phone") or "",
              "app_metadata": user.get("raw_app_meta_data") or {},
              "user_metadata": user.get("raw_user_meta_data") or {},
              "role": user.get("role") or "authenticated",
              "aal": "aal1", "amr": amr, "session_id": str(session_id),
              "is_anonymous": bool(user.get("is_anonymous"))}
    return jwt.encode(claims, auth.keys.jwt_secret, algorithm="HS256"), exp


def token_answer(auth: AuthService, user: store.Row, session_id: uuid.UUID, amr: list[dict[str, Any]],
                 refresh: str, request: Request) -> dict[str, Any]:
    """GoTrue's ``AccessTokenResponse`` for a user row carrying ``kit_identities``."""
    token, exp = access_token(auth, user, session_id, amr, request)
    return {"access_token": token, "token_type": "bearer", "expires_in": auth.settings.jwt_expiry,
            "expires_at": exp, "refresh_token": refresh, "user": user_json(user, user["kit_identities"])}


async def issue_session(auth: AuthService, conn: store.Conn, user: store.Row, method: str,
                        request: Request) -> dict[str, Any]:
    """A new session with its first refresh token, for a sign-in by ``method`` (password, otp, anonymous...)."""
    refresh = new_refresh_token()
    session_id, user = await store.create_session(conn, user["id"], method, request.headers.get("user-agent"),
                                                  request.client.host if request.client else None,
                                                  auth.settings.session_timebox, refresh)
    return token_answer(auth, user, session_id, [{"method": method, "timestamp": int(time.time())}],
                        refresh, request)


async def refresh_grant(auth: AuthService, token: str, request: Request) -> dict[str, Any]:
    """``POST /token?grant_type=refresh_token``: rotation with reuse detection."""
    if not token:
        raise AuthProblem(400, "", "refresh_token required", oauth="invalid_request")
    reused: AuthProblem | None = None
    async with auth.store.transaction() as conn:
        row = await store.find_refresh_token(conn, token)
        user = await store.find_user(conn, user_id=row["session_user_id"]) if row else None
        if row is None or user is None:
            raise AuthProblem(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        now = datetime.now(timezone.utc)
        if is_banned(user, now):
            raise AuthProblem(400, "user_banned", "Invalid Refresh Token: User Banned")
        if row["not_after"] is not None and row["not_after"] < now:
            raise AuthProblem(400, "session_expired", "Invalid Refresh Token: Session Expired")
        session_id = row["session_id"]
        issued: str | None = None
        if row["revoked"]:
            child = await store.active_child(conn, session_id)
            if child is not None and child["parent"] == row["token"]:
                issued = child["token"]  # the client lost the answer of its last refresh
            elif now > row["updated_at"] + timedelta(seconds=auth.settings.refresh_token_reuse_interval):
                if auth.settings.refresh_token_rotation:
                    await store.end_sessions(conn, user["id"], only=str(session_id))
                reused = AuthProblem(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        if reused is None:
            if issued is None:
                await store.revoke_token(conn, row["id"])
                issued = new_refresh_token()
                await store.insert_refresh_token(conn, issued, user["id"], session_id, row["token"])
            user = await store.user_with_session_claims(conn, user["id"], session_id)
            return token_answer(auth, user, session_id, user["kit_amr"], issued, request)
    raise reused  # after the commit: the ended session stays ended


def _bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthProblem(401, "no_authorization", "This endpoint requires a valid Bearer token")
    return token.strip()


def verified_claims(auth: AuthService, request: Request) -> dict[str, Any]:
    """The bearer token's claims, or GoTrue's 401/403 answer."""
    try:
        return jwt.decode(_bearer(request), auth.keys.jwt_secret, algorithms=["HS256"],
                          options={"verify_aud": False})
    except jwt.ExpiredSignatureError:
        reason = "token has invalid claims: token is expired"
    except jwt.InvalidSignatureError:
        reason = "token signature is invalid: signature is invalid"
    except jwt.InvalidTokenError as exc:  # golang-jwt's wording, as GoTrue passes it on
        kind = "malformed" if isinstance(exc, jwt.DecodeError) else "invalid"
        reason = f"token is {kind}: {exc}"
    raise AuthProblem(403, "bad_jwt", f"invalid JWT: unable to parse or verify signature, {reason}")


async def current_user(auth: AuthService, conn: store.Conn,
                       request: Request) -> tuple[store.Row, dict[str, Any]]:
    """The signed-in user and the token's claims (``requireAuthentication`` in GoTrue)."""
    claims = verified_claims(auth, request)
    subject = claims.get("sub")
    if not subject:
        raise AuthProblem(403, "bad_jwt", "invalid claim: missing sub claim")
    try:
        user_id = uuid.UUID(str(subject))
    except ValueError:
        raise AuthProblem(400, "bad_jwt", "invalid claim: sub claim must be a UUID") from None
    user = await store.find_user(conn, user_id=user_id)
    if user is None:
        raise AuthProblem(403, "user_not_found", "User from sub claim in JWT does not exist")
    session_id = claims.get("session_id")
    if session_id and session_id != str(uuid.UUID(int=0)):
        try:
            session_id = str(uuid.UUID(str(session_id)))
        except ValueError:
            raise AuthProblem(403, "bad_jwt", "invalid claim: session_id claim must be a UUID") from None
        if await store.session_of(conn, session_id) is None:
            raise AuthProblem(403, "session_not_found", "Session from session_id claim in JWT does not exist")
    if is_banned(user, datetime.now(timezone.utc)):
        raise AuthProblem(403, "user_banned", "User is banned")
    return user, claims


def require_admin(auth: AuthService, request: Request) -> dict[str, Any]:
    claims = verified_claims(auth, request)
    if claims.get("role") not in ADMIN_ROLES:
        raise AuthProblem(403, "not_admin", "User not allowed")
    return claims

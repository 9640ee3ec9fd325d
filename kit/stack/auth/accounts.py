"""Sign-up, sign-in, the signed-in user, sign-out: ``/signup``, ``/token``, ``/user``, ``/logout``.

Behaviour of Supabase Auth (internal/api/signup.go, anonymous.go, token.go, user.go, logout.go):

- ``POST /signup`` with email and password: with autoconfirm, a session (200); without, the
  user and a confirmation mail. A confirmed address again: 422 ``user_already_exists`` with
  autoconfirm, else a look-alike user (no account enumeration). No email and no phone:
  an anonymous user and a session (422 ``anonymous_provider_disabled`` when off).
- ``POST /token?grant_type=password``: 400 ``invalid_credentials`` for an unknown email or a
  wrong password, 400 ``email_not_confirmed`` before confirmation.
- ``PUT /user``: metadata merged key by key (``null`` deletes), a new password must differ
  (422 ``same_password``) and ends the user's other sessions; a new email is confirmed by mail.
- ``POST /logout?scope=global|local|others``: 204.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timezone
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kit.stack.auth import pkce, store, tokens
from kit.stack.auth.passwords import (
    check_strength,
    hash_password,
    password_matches,
)
from kit.stack.auth.problems import AuthProblem, database_error, invalid_credentials, validation
from kit.stack.auth.service import AUDIENCE, mapping, read_params, service_of, text
from kit.stack.auth.users import is_banned, is_confirmed, user_json

log = logging.getLogger("kit.stack")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_email(email: str) -> str:
    """GoTrue's ``validateEmail``: required, at most 255 characters, a plausible address, lowercased."""
    if not email:
        raise validation("An email address is required")
    if len(email) > 255:
        raise validation("An email address is too long")
    if not _EMAIL.match(email):
        raise validation("Unable to validate email address: invalid format")
    return email.lower()


async def new_user(conn: store.Conn, *, email: str | None, password_hash: str | None,
                   data: dict[str, Any], provider: str | None, role: str = "authenticated",
                   user_id: uuid.UUID | None = None) -> store.Row:
    """Insert a user and (for an email user) its email identity, as ``signupNewUser`` does."""
    app_metadata = {"provider": provider, "providers": [provider]} if provider else {}
    try:
        user = await store.insert_user(conn, id=str(user_id or uuid.uuid4()), aud=AUDIENCE, role=role,
                                       email=email, encrypted_password=password_hash or "",
                                       raw_app_meta_data=app_metadata, raw_user_meta_data=data,
                                       is_anonymous=provider is None)
    except psycopg.Error as exc:  # a trigger on auth.users failed, most often: GoTrue's answer
        log.warning("auth: saving a new user failed: %s", database_error(exc))
        raise AuthProblem(500, "unexpected_failure", "Database error saving new user") from None
    if email:
        identity = {"sub": str(user["id"]), "email": email, "email_verified": False, "phone_verified": False}
        await store.upsert_identity(conn, user["id"], "email", {**data, **identity})
    return user


async def confirm_email(conn: store.Conn, user: store.Row) -> store.Row:
    """``User.Confirm``: confirmed now, ``email_verified`` in metadata and identity."""
    metadata = store.merged_metadata(user.get("raw_user_meta_data"), {"email_verified": True})
    user = await store.update_user(conn, user["id"], email_confirmed_at=datetime.now(timezone.utc),
                                   confirmation_token="", raw_user_meta_data=metadata)
    await store.upsert_identity(conn, user["id"], "email", {"email_verified": True})
    return user


async def signup(request: Request) -> Response:
    auth = service_of(request)
    params = await read_params(request)
    email, phone = text(params, "email"), text(params, "phone")
    if not email and not phone:
        return await _signup_anonymously(request, params)
    if auth.settings.disable_signup:
        raise AuthProblem(422, "signup_disabled", "Signups not allowed for this instance")
    password: str = params["password"] if isinstance(params.get("password"), str) else ""
    if not password:
        raise validation("Signup requires a valid password")
    check_strength(password, auth.settings.minimum_password_length)
    if email and phone:
        raise validation("Only an email address or phone number should be provided on signup.")
    challenge = pkce.pkce_challenge(params)
    if phone:
        raise AuthProblem(400, "phone_provider_disabled", "Phone signups are disabled")
    email = valid_email(email)
    data = mapping(params, "data") or {}
    async with auth.store.transaction() as conn:
        existing = await store.find_user(conn, email=email)
    if existing is not None and is_confirmed(existing):
        if auth.settings.mailer_autoconfirm:
            raise AuthProblem(422, "user_already_exists", "User already registered")
        return JSONResponse(_look_alike(existing, email, data))
    digest = await hash_password(password, cost=auth.settings.password_hash_cost)  # outside the transaction
    async with auth.store.transaction() as conn:
        user = existing or await new_user(conn, email=email, password_hash=digest, data=data, provider="email")
        if auth.settings.mailer_autoconfirm:
            user = await confirm_email(conn, user)
            return JSONResponse(await tokens.issue_session(auth, conn, user, "password", request))
        await pkce.start_flow(conn, user["id"], "email/signup", challenge)
        user = await auth.send_mail(conn, user, "signup", request, pkce=challenge is not None)
        return JSONResponse(user_json(user, await store.identities_of(conn, user["id"])))


def _look_alike(user: store.Row, email: str, data: dict[str, Any]) -> dict[str, Any]:
    """``sanitizeUser``: what an unconfirmed sign-up answer looks like, for an address already taken."""
    now = datetime.now(timezone.utc)
    fake = {"id": uuid.uuid4(), "aud": AUDIENCE, "role": "", "email": email, "created_at": now,
            "updated_at": now, "confirmation_sent_at": now, "raw_app_meta_data": {"provider": "email", "providers": ["email"]},
            "raw_user_meta_data": data, "is_anonymous": False}
    return user_json(fake, [])


async def _signup_anonymously(request: Request, params: dict[str, Any]) -> Response:
    auth = service_of(request)
    if not auth.settings.anonymous_users:
        raise AuthProblem(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled")
    if auth.settings.disable_signup:
        raise AuthProblem(422, "signup_disabled", "Signups not allowed for this instance")
    async with auth.store.transaction() as conn:
        user = await new_user(conn, email=None, password_hash=None, data=mapping(params, "data") or {},
                              provider=None)
        return JSONResponse(await tokens.issue_session(auth, conn, user, "anonymous", request))


async def token(request: Request) -> Response:
    auth = service_of(request)
    grant = request.query_params.get("grant_type", "")
    params = await read_params(request)
    if grant == "refresh_token":
        return JSONResponse(await tokens.refresh_grant(auth, text(params, "refresh_token"), request))
    if grant == "pkce":
        return await pkce.pkce_grant(auth, params, request)
    if grant != "password":
        raise AuthProblem(400, "invalid_credentials", "unsupported_grant_type")
    email, phone = text(params, "email"), text(params, "phone")
    password: str = params["password"] if isinstance(params.get("password"), str) else ""
    if email and phone:
        raise validation("Only an email address or phone number should be provided on login.")
    if phone:
        raise AuthProblem(422, "phone_provider_disabled", "Phone logins are disabled")
    if not email:
        raise validation("missing email or phone")
    async with auth.store.connection() as conn:  # two statements, each atomic: no transaction needed
        user = await store.find_user(conn, email=email)
        if user is None or not user.get("encrypted_password"):
            raise invalid_credentials()
        if is_banned(user, datetime.now(timezone.utc)):
            raise AuthProblem(400, "user_banned", "User is banned")
        if not await password_matches(password, user["encrypted_password"]):
            raise invalid_credentials()
        if not is_confirmed(user):
            raise AuthProblem(400, "email_not_confirmed", "Email not confirmed")
        return JSONResponse(await tokens.issue_session(auth, conn, user, "password", request))


async def get_user(request: Request) -> Response:
    auth = service_of(request)
    async with auth.store.transaction() as conn:
        user, _ = await tokens.current_user(auth, conn, request)
        return JSONResponse(user_json(user, await store.identities_of(conn, user["id"])))


async def update_user(request: Request) -> Response:
    auth = service_of(request)
    params = await read_params(request)
    async with auth.store.transaction() as conn:
        user, claims = await tokens.current_user(auth, conn, request)
    password = params.get("password")
    if "app_metadata" in params and claims.get("role") not in tokens.ADMIN_ROLES:
        raise AuthProblem(403, "not_admin", "Updating app_metadata requires admin privileges")
    email = valid_email(text(params, "email")) if text(params, "email") else ""
    digest = None
    if isinstance(password, str) and password:
        check_strength(password, auth.settings.minimum_password_length)
        if user.get("is_anonymous") and not email:
            raise validation("Updating password of an anonymous user without an email or phone is not "
                             "allowed", 422)
        if await password_matches(password, user.get("encrypted_password")):
            raise AuthProblem(422, "same_password", "New password should be different from the old password.")
        digest = await hash_password(password, cost=auth.settings.password_hash_cost)
    async with auth.store.transaction() as conn:
        if email and email != (user.get("email") or "") and await store.find_user(conn, email=email):
            raise AuthProblem(422, "email_exists", "A user with this email address has already been registered")
        if digest is not None:
            user = await store.update_user(conn, user["id"], encrypted_password=digest, recovery_token="",
                                           confirmation_token="", email_change_token_new="")
            await store.end_sessions(conn, user["id"], keep=claims.get("session_id"))
        data = mapping(params, "data")
        if data is not None:
            user = await store.update_user(conn, user["id"], raw_user_meta_data=store.merged_metadata(
                user.get("raw_user_meta_data"), data))
        if email and email != (user.get("email") or ""):
            user = await _change_email(conn, user, email, request, pkce.pkce_challenge(params))
        return JSONResponse(user_json(user, await store.identities_of(conn, user["id"])))


async def _change_email(conn: store.Conn, user: store.Row, email: str, request: Request,
                        challenge: tuple[str, str] | None) -> store.Row:
    auth = service_of(request)
    if user.get("is_anonymous") and auth.settings.mailer_autoconfirm:
        user = await store.update_user(conn, user["id"], email=email, is_anonymous=False,
                                       email_confirmed_at=datetime.now(timezone.utc),
                                       raw_app_meta_data={"provider": "email", "providers": ["email"]})
        await store.upsert_identity(conn, user["id"], "email", {"sub": str(user["id"]), "email": email,
                                                                "email_verified": True, "phone_verified": False})
        return user
    user = await store.update_user(conn, user["id"], email_change=email)
    await pkce.start_flow(conn, user["id"], "email_change", challenge)
    return await auth.send_mail(conn, user, "email_change", request, to=email, pkce=challenge is not None)


async def logout(request: Request) -> Response:
    auth = service_of(request)
    scope = request.query_params.get("scope") or "global"
    if scope not in ("global", "local", "others"):
        raise validation(f'Unsupported logout scope "{scope}"')
    async with auth.store.transaction() as conn:
        user, claims = await tokens.current_user(auth, conn, request)
        session_id = claims.get("session_id")
        if scope == "local" and session_id:
            await store.end_sessions(conn, user["id"], only=session_id)
        elif scope == "others" and session_id:
            await store.end_sessions(conn, user["id"], keep=session_id)
        else:
            await store.end_sessions(conn, user["id"])
    return Response(status_code=204)

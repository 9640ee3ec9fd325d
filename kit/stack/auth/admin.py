"""The admin API (a service_role bearer token): ``/admin/users``, ``/admin/generate_link``, ``/invite``.

Behaviour of Supabase Auth (internal/api/admin.go, mail.go ``adminGenerateLink``, invite.go):
any other bearer is 403 ``not_admin``; an unknown user id is 404 ``user_not_found`` (a
malformed one 404 ``validation_failed``); an address already registered is 422
``email_exists``. ``GET /admin/users`` pages with ``page``/``per_page`` (default 50) and
answers ``{"users": [...], "aud": "authenticated"}`` with ``X-Total-Count`` and ``Link``.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kit.stack.auth import store, tokens
from kit.stack.auth.accounts import confirm_email, new_user, valid_email
from kit.stack.auth.mailer import TOKEN_COLUMNS, action_link, new_otp, token_hash
from kit.stack.auth.passwords import check_strength, hash_password, random_password
from kit.stack.auth.problems import AuthProblem, validation
from kit.stack.auth.service import AUDIENCE, mapping, read_params, service_of, text
from kit.stack.auth.users import is_confirmed, user_json

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s|ms)$")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_EMAIL_EXISTS = "A user with this email address has already been registered"


def _ban_until(value: str) -> datetime | None:
    """``ban_duration`` (Go durations: ``24h``, ``90m``, ``none``) as the ``banned_until`` time."""
    if value == "none":
        return None
    match = _DURATION.match(value)
    if not match:
        raise validation(f'invalid format for ban duration: time: invalid duration "{value}"')
    return datetime.now(timezone.utc) + timedelta(seconds=float(match[1]) * _UNITS[match[2]])


async def _answer(conn: store.Conn, user: store.Row) -> JSONResponse:
    return JSONResponse(user_json(user, await store.identities_of(conn, user["id"])))


async def _user_or_404(conn: store.Conn, request: Request) -> store.Row:
    try:
        user_id = uuid.UUID(request.path_params["user_id"])
    except ValueError:
        raise AuthProblem(404, "validation_failed", "user_id must be an UUID") from None
    user = await store.find_user(conn, user_id=user_id)
    if user is None:
        raise AuthProblem(404, "user_not_found", "User not found")
    return user


async def list_users(request: Request) -> Response:
    auth = service_of(request)
    tokens.require_admin(auth, request)
    try:
        page = min(max(1, int(request.query_params.get("page") or 1)), 2**31 - 1)
        per_page = min(max(1, int(request.query_params.get("per_page") or 50)), 1000)
    except ValueError as exc:
        raise validation(f"Bad Pagination Parameters: {exc}") from None
    async with auth.store.transaction() as conn:
        rows, total = await store.list_users(conn, AUDIENCE, page, per_page)
        users = [user_json(row, await store.identities_of(conn, row["id"])) for row in rows]
    last = max(1, -(-total // per_page))
    base = f"{request.url.path}?per_page={per_page}"
    links = [f'<{base}&page={page + 1}>; rel="next"'] if page < last else []
    links.append(f'<{base}&page={last}>; rel="last"')
    return JSONResponse({"users": users, "aud": AUDIENCE},
                        headers={"X-Total-Count": str(total), "Link": ", ".join(links)})


async def create_user(request: Request) -> Response:
    auth = service_of(request)
    tokens.require_admin(auth, request)
    params = await read_params(request)
    email = text(params, "email")
    if not email and not text(params, "phone"):
        raise validation("Cannot create a user without either an email or phone")
    if text(params, "phone"):
        raise AuthProblem(400, "phone_provider_disabled", "Phone logins are disabled")
    email = valid_email(email)
    password, password_hash = params.get("password"), text(params, "password_hash")
    if password is not None and password_hash:
        raise validation("Only a password or a password hash should be provided")
    user_id = uuid.uuid4()
    if text(params, "id"):
        try:
            user_id = uuid.UUID(text(params, "id"))
        except ValueError:
            raise validation("ID must conform to the uuid v4 format") from None
    digest = password_hash or await hash_password(password if isinstance(password, str) and password
                                                  else random_password(), cost=auth.settings.password_hash_cost)
    async with auth.store.transaction() as conn:
        if await store.find_user(conn, email=email) is not None:
            raise AuthProblem(422, "email_exists", _EMAIL_EXISTS)
        user = await new_user(conn, email=email, password_hash=digest, provider="email",
                              data=mapping(params, "user_metadata") or {},
                              role=text(params, "role") or "authenticated", user_id=user_id)
        user = await _apply_admin_changes(conn, user, params)
        return await _answer(conn, user)


async def _apply_admin_changes(conn: store.Conn, user: store.Row, params: dict[str, Any]) -> store.Row:
    if params.get("email_confirm") is True and not is_confirmed(user):
        user = await confirm_email(conn, user)
    changes: dict[str, Any] = {}
    if (app := mapping(params, "app_metadata")) is not None:
        changes["raw_app_meta_data"] = store.merged_metadata(user.get("raw_app_meta_data"), app)
    if text(params, "ban_duration"):
        changes["banned_until"] = _ban_until(text(params, "ban_duration"))
    if text(params, "role"):
        changes["role"] = text(params, "role")
    return await store.update_user(conn, user["id"], **changes) if changes else user


async def get_user(request: Request) -> Response:
    auth = service_of(request)
    tokens.require_admin(auth, request)
    async with auth.store.transaction() as conn:
        return await _answer(conn, await _user_or_404(conn, request))


async def update_user(request: Request) -> Response:
    auth = service_of(request)
    tokens.require_admin(auth, request)
    params = await read_params(request)
    password = params.get("password")
    digest = None
    if isinstance(password, str):
        check_strength(password, auth.settings.minimum_password_length)
        digest = await hash_password(password, cost=auth.settings.password_hash_cost)
    async with auth.store.transaction() as conn:
        user = await _user_or_404(conn, request)
        if text(params, "email") and valid_email(text(params, "email")) != user.get("email"):
            email = valid_email(text(params, "email"))
            if await store.find_user(conn, email=email) is not None:
                raise AuthProblem(422, "email_exists", _EMAIL_EXISTS)
            user = await store.update_user(conn, user["id"], email=email, is_anonymous=False)
            await store.upsert_identity(conn, user["id"], "email", {"sub": str(user["id"]), "email": email,
                                                                    "email_verified": bool(params.get("email_confirm"))})
        if digest is not None:
            user = await store.update_user(conn, user["id"], encrypted_password=digest)
            await store.end_sessions(conn, user["id"])
        if (data := mapping(params, "user_metadata")) is not None:
            user = await store.update_user(conn, user["id"], raw_user_meta_data=store.merged_metadata(
                user.get("raw_user_meta_data"), data))
        user = await _apply_admin_changes(conn, user, params)
        return await _answer(conn, user)


async def delete_user(request: Request) -> Response:
    auth = service_of(request)
    tokens.require_admin(auth, request)
    params = await read_params(request)
    async with auth.store.transaction() as conn:
        user = await _user_or_404(conn, request)
        await store.delete_user(conn, user["id"], soft=params.get("should_soft_delete") is True)
    return JSONResponse({})


async def invite(request: Request) -> Response:
    auth = service_of(request)
    tokens.require_admin(auth, request)
    params = await read_params(request)
    email = valid_email(text(params, "email"))
    async with auth.store.transaction() as conn:
        user = await store.find_user(conn, email=email)
        if user is not None and is_confirmed(user):
            raise AuthProblem(422, "email_exists", _EMAIL_EXISTS)
        if user is None:
            user = await new_user(conn, email=email, password_hash=None, data=mapping(params, "data") or {},
                                  provider="email")
        user = await auth.send_mail(conn, user, "invite", request)
        return await _answer(conn, user)


async def generate_link(request: Request) -> Response:
    """Like a mail, but answered to the admin instead of sent: ``action_link``, ``email_otp``..."""
    auth = service_of(request)
    tokens.require_admin(auth, request)
    params = await read_params(request)
    kind, email = text(params, "type"), valid_email(text(params, "email"))
    if kind not in ("signup", "invite", "magiclink", "recovery", "email_change_new", "email_change_current"):
        raise validation(f"Invalid email action link type requested: {kind}")
    if kind == "email_change_current":
        raise validation("Enable secure email change to generate link for current email")
    redirect_to = auth.redirect_of(request)
    async with auth.store.transaction() as conn:
        user = await store.find_user(conn, email=email)
        if user is None and kind in ("recovery", "email_change_new"):
            raise AuthProblem(404, "user_not_found", "User with this email not found")
        if user is None:
            kind = "signup" if kind == "magiclink" else kind
            given = params.get("password")
            password = given if kind == "signup" and isinstance(given, str) else ""
            if password:
                check_strength(password, auth.settings.minimum_password_length)
            digest = await hash_password(password, cost=auth.settings.password_hash_cost) if password else None
            user = await new_user(conn, email=email, password_hash=digest, data=mapping(params, "data") or {},
                                  provider="email")
        elif kind in ("signup", "invite") and is_confirmed(user):
            raise AuthProblem(422, "email_exists", _EMAIL_EXISTS)
        address, stored_kind = email, kind
        changes: dict[str, Any] = {}
        if kind == "email_change_new":
            address, stored_kind = valid_email(text(params, "new_email")), "email_change"
            if await store.find_user(conn, email=address) is not None:
                raise AuthProblem(422, "email_exists", _EMAIL_EXISTS)
            changes["email_change"] = address
        otp = new_otp(auth.settings.otp_length)
        hashed = token_hash(address, otp)
        column, sent = TOKEN_COLUMNS[stored_kind]
        now = datetime.now(timezone.utc)
        changes.update({column: hashed, sent: now})
        if kind == "invite":
            changes["invited_at"] = now
        user = await store.update_user(conn, user["id"], **changes)
        body = user_json(user, await store.identities_of(conn, user["id"]))
    link = action_link(tokens.issuer(request), hashed, stored_kind, redirect_to)
    return JSONResponse({**body, "action_link": link, "email_otp": otp, "hashed_token": hashed,
                         "verification_type": kind, "redirect_to": redirect_to})

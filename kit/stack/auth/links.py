"""Mailed codes and links: ``/otp``, ``/verify``, ``/recover``, ``/resend``.

Behaviour of Supabase Auth (internal/api/otp.go, magic_link.go, verify.go, recover.go, resend.go):

- ``POST /otp`` mails a magic link (code + link) to a confirmed user; an unknown address is
  signed up first (``create_user``, default true; false or sign-ups off: 422 ``otp_disabled``);
  answers ``{}``.
- ``POST /recover`` mails a recovery link; ``{}`` also for an unknown address (no enumeration).
- ``POST /resend`` mails the sign-up confirmation or email-change link again.
- ``POST /verify`` takes ``email`` + ``token`` (the code) or ``token_hash``; a wrong, used or
  expired one is 403 ``otp_expired``; success is a session. ``GET /verify?token=&type=`` is
  the mailed link: 303 to ``redirect_to`` with the session (or the error) in the fragment.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from kit.stack.auth import pkce, store, tokens
from kit.stack.auth.accounts import confirm_email, new_user, valid_email
from kit.stack.auth.mailer import TOKEN_COLUMNS, token_hash
from kit.stack.auth.problems import AuthProblem, validation
from kit.stack.auth.service import mapping, read_params, service_of, text
from kit.stack.auth.users import is_banned, is_confirmed
from kit.stack.request_input import text_problem

EMAIL_TYPES = ("signup", "invite", "magiclink", "recovery", "email_change", "email")
_EXPIRED_LINK = "Email link is invalid or has expired"
_EXPIRED_CODE = "Token has expired or is invalid"


async def otp(request: Request) -> Response:
    auth = service_of(request)
    params = await read_params(request)
    if text(params, "phone"):
        raise AuthProblem(400, "phone_provider_disabled", "Unsupported phone provider")
    if not text(params, "email"):
        raise validation("One of email or phone must be set")
    email = valid_email(text(params, "email"))
    challenge = pkce.pkce_challenge(params)
    create = params.get("create_user", True) is not False
    async with auth.store.transaction() as conn:
        user = await store.find_user(conn, email=email)
        if user is None and (not create or auth.settings.disable_signup):
            raise AuthProblem(422, "otp_disabled", "Signups not allowed for otp")
        if user is None:
            user = await new_user(conn, email=email, password_hash=None, data=mapping(params, "data") or {},
                                  provider="email")
        kind = "magiclink" if is_confirmed(user) or auth.settings.mailer_autoconfirm else "signup"
        await pkce.start_flow(conn, user["id"], pkce.METHODS[kind], challenge)
        await auth.send_mail(conn, user, kind, request, pkce=challenge is not None)
    return JSONResponse({})


async def recover(request: Request) -> Response:
    auth = service_of(request)
    params = await read_params(request)
    if not text(params, "email"):
        raise validation("Password recovery requires an email")
    email = valid_email(text(params, "email"))
    challenge = pkce.pkce_challenge(params)
    async with auth.store.transaction() as conn:
        user = await store.find_user(conn, email=email)
        if user is not None:
            await pkce.start_flow(conn, user["id"], "recovery", challenge)
            await auth.send_mail(conn, user, "recovery", request, pkce=challenge is not None)
    return JSONResponse({})


async def resend(request: Request) -> Response:
    auth = service_of(request)
    params = await read_params(request)
    kind = text(params, "type")
    if kind not in ("signup", "email_change", "sms", "phone_change"):
        raise validation("Missing one of these types: signup, email_change, sms, phone_change")
    if kind in ("sms", "phone_change") or text(params, "phone"):
        raise AuthProblem(400, "phone_provider_disabled", "Phone logins are disabled")
    if not text(params, "email"):
        raise validation("Type provided requires an email address" if kind == "signup"
                         else "Missing email address or phone number")
    email = valid_email(text(params, "email"))
    challenge = pkce.pkce_challenge(params)
    async with auth.store.transaction() as conn:
        user = await store.find_user(conn, email=email)
        if user is None or (kind == "signup" and is_confirmed(user)) or (kind == "email_change"
                                                                           and not user.get("email_change")):
            return JSONResponse({})
        await pkce.start_flow(conn, user["id"], pkce.METHODS[kind], challenge)
        await auth.send_mail(conn, user, kind, request, pkce=challenge is not None,
                             to=user["email_change"] if kind == "email_change" else None)
    return JSONResponse({})


async def verify(request: Request) -> Response:
    if request.method == "GET":
        return await _verify_link(request)
    auth = service_of(request)
    params = await read_params(request)
    kind, code, hashed = text(params, "type"), text(params, "token"), text(params, "token_hash")
    email = text(params, "email")
    if not kind:
        raise validation("Verify requires a verification type")
    if bool(code) == bool(hashed):
        raise validation("Verify requires either a token or a token hash")
    if text(params, "phone"):
        raise AuthProblem(400, "phone_provider_disabled", "Unsupported phone provider")
    if code and not email:
        raise validation("Only an email address or phone number should be provided on verify")
    if kind not in EMAIL_TYPES:
        raise validation("Unsupported verification type")
    async with auth.store.transaction() as conn:
        if code:
            user, kind = await _user_for_code(conn, valid_email(email), code, kind, auth.settings.otp_expiry)
        else:
            user, kind = await _user_for_hash(conn, hashed, kind, auth.settings.otp_expiry, _EXPIRED_LINK)
        user = await _apply(conn, user, kind)
        return JSONResponse(await tokens.issue_session(auth, conn, user, "otp", request))


async def _verify_link(request: Request) -> Response:
    auth = service_of(request)
    kind, hashed = request.query_params.get("type", ""), request.query_params.get("token", "")
    if text_problem(hashed):  # no stored token holds a NUL byte or a lone surrogate
        hashed = "invalid"
    target = auth.redirect_of(request)
    if not kind:
        raise validation("Verify requires a verification type")
    if not hashed:
        raise validation("Verify requires a token or a token hash")
    flow_is_pkce = hashed.startswith(pkce.PREFIX)
    try:
        async with auth.store.transaction() as conn:
            user, kind = await _user_for_hash(conn, hashed, kind, auth.settings.otp_expiry, _EXPIRED_LINK)
            user = await _apply(conn, user, kind)
            if flow_is_pkce:  # the code goes to the app, which exchanges it with its verifier
                code = await pkce.issue_code(conn, user["id"], kind)
                return RedirectResponse(_with_query(target, {"code": code}), status_code=303)
            answer = await tokens.issue_session(auth, conn, user, "otp", request)
    except AuthProblem as problem:
        oauth_error = {400: "invalid_request", 401: "unauthorized_client", 403: "access_denied"}.get(
            problem.status, "server_error")
        error = {"error": oauth_error, "error_code": problem.code, "error_description": problem.message}
        fragment = urlencode({**error, "sb": ""})
        return RedirectResponse(f"{_with_query(target, error) if flow_is_pkce else target}#{fragment}",
                                status_code=303)
    fragment = urlencode({"access_token": answer["access_token"], "expires_at": answer["expires_at"],
                          "expires_in": answer["expires_in"], "refresh_token": answer["refresh_token"],
                          "token_type": "bearer", "type": kind, "sb": ""})
    return RedirectResponse(f"{target}#{fragment}", status_code=303)


def _with_query(url: str, extra: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(extra)}"


def _expired(sent_at: datetime | None, otp_expiry: int) -> bool:
    return sent_at is None or datetime.now(timezone.utc) > sent_at + timedelta(seconds=otp_expiry)


async def _user_for_hash(conn: store.Conn, hashed: str, kind: str, otp_expiry: int,
                         message: str) -> tuple[store.Row, str]:
    kinds = ("signup", "magiclink") if kind == "email" else (kind,)
    for candidate in kinds:
        if candidate not in TOKEN_COLUMNS:
            raise validation("Invalid email verification type")
        column, sent = TOKEN_COLUMNS[candidate]
        user = await store.find_user(conn, token=(column, hashed), lock=True)
        if user is not None:
            if is_banned(user, datetime.now(timezone.utc)):
                raise AuthProblem(403, "user_banned", "User is banned")
            if _expired(user.get(sent), otp_expiry):
                raise AuthProblem(403, "otp_expired", message)
            return user, candidate
    raise AuthProblem(403, "otp_expired", message)


async def _user_for_code(conn: store.Conn, email: str, code: str, kind: str,
                         otp_expiry: int) -> tuple[store.Row, str]:
    if kind == "email_change":  # found by the token the new address was sent, of either flow
        hashed = token_hash(email, code)
        try:
            return await _user_for_hash(conn, hashed, kind, otp_expiry, _EXPIRED_CODE)
        except AuthProblem:
            return await _user_for_hash(conn, pkce.PREFIX + hashed, kind, otp_expiry, _EXPIRED_CODE)
    user = await store.find_user(conn, email=email, lock=True)
    if user is None:
        raise AuthProblem(403, "otp_expired", _EXPIRED_CODE)
    hashed = token_hash(email, code)
    kinds = ("signup", "magiclink") if kind == "email" else (kind,)
    for candidate in kinds:
        column, sent = TOKEN_COLUMNS[candidate]
        if user.get(column) in (hashed, pkce.PREFIX + hashed) and not _expired(user.get(sent), otp_expiry):
            if is_banned(user, datetime.now(timezone.utc)):
                raise AuthProblem(403, "user_banned", "User is banned")
            return user, candidate
    raise AuthProblem(403, "otp_expired", _EXPIRED_CODE)


async def _apply(conn: store.Conn, user: store.Row, kind: str) -> store.Row:
    """What a verified token does: confirm the address, spend the token, or change the email."""
    if kind in ("signup", "invite"):
        return await confirm_email(conn, user)
    if kind in ("magiclink", "recovery"):
        user = await store.update_user(conn, user["id"], recovery_token="")
        return user if is_confirmed(user) else await confirm_email(conn, user)
    new_email = user.get("email_change") or ""
    changes: dict[str, Any] = {"email": new_email, "email_change": "", "email_change_token_new": "",
                               "is_anonymous": False}
    if not is_confirmed(user):
        changes["email_confirmed_at"] = datetime.now(timezone.utc)
    user = await store.update_user(conn, user["id"], **changes)
    await store.upsert_identity(conn, user["id"], "email", {"sub": str(user["id"]), "email": new_email,
                                                            "email_verified": True, "phone_verified": False})
    return user

"""The corpus cases against the embedded stack's own Auth (GoTrue-compatible /auth/v1), through
the real supabase_auth sync and async clients.

Two cases need time to pass (a refresh token's reuse interval, a session's time box); they age
the row in the database instead of sleeping: the answer is still the stack's own.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from explain_corpus import CorpusEnv, case, failure

import kit

PASSWORD = "correct horse battery"


def _email() -> str:
    return f"corpus-{uuid.uuid4().hex[:10]}@example.org"


def _user(env: CorpusEnv, *, confirmed: bool = True) -> str:
    email = _email()
    env.service.sync.auth.admin.create_user({"email": email, "password": PASSWORD,
                                             "email_confirm": confirmed})
    return email


def _signed_in(env: CorpusEnv) -> tuple[kit.Clients, Any]:
    c = env.clients(role="anon")
    session = c.sync.auth.sign_in_with_password({"email": _user(env), "password": PASSWORD}).session
    return c, session


@case("auth_stack_invalid_credentials_sync", "auth:invalid_credentials", "auth")
async def _(env: CorpusEnv) -> list[Any]:
    email = _user(env)
    return await failure(env.clients(role="anon"), lambda c: c.sync.auth.sign_in_with_password(
        {"email": email, "password": "not the password"}))


@case("auth_stack_email_not_confirmed_async", "auth:email_not_confirmed", "auth")
async def _(env: CorpusEnv) -> list[Any]:
    email = _user(env, confirmed=False)
    return await failure(env.clients(role="anon"), lambda c: c.async_.auth.sign_in_with_password(
        {"email": email, "password": PASSWORD}))


@case("auth_stack_user_already_registered_sync", "auth:user_already_exists", "auth")
async def _(env: CorpusEnv) -> list[Any]:
    email = _user(env)
    return await failure(env.clients(role="anon"), lambda c: c.sync.auth.sign_up(
        {"email": email, "password": PASSWORD}))


@case("auth_stack_weak_password_async", "auth:weak_password", "auth",
      lambda why: "length" in str(why))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.clients(role="anon"), lambda c: c.async_.auth.sign_up(
        {"email": _email(), "password": "12345"}))


@case("auth_stack_refresh_token_reused_sync", "auth:refresh_token_already_used", "auth")
async def _(env: CorpusEnv) -> list[Any]:
    c, session = _signed_in(env)
    first = session.refresh_token
    second = c.sync.auth.refresh_session(first).session.refresh_token
    c.sync.auth.refresh_session(second)
    env.db.execute("update auth.refresh_tokens set updated_at = updated_at - interval '1 minute' "
                   "where token = %s", (first,))  # past the 10 s reuse interval
    return await failure(c, lambda c: c.sync.auth.refresh_session(first))


@case("auth_stack_session_expired_async", "auth:session_expired", "auth")
async def _(env: CorpusEnv) -> list[Any]:
    c, session = _signed_in(env)
    env.db.execute("update auth.sessions set not_after = now() - interval '1 second' "
                   "where user_id = %s", (session.user.id,))  # the session's time box is over
    return await failure(c, lambda c: c.async_.auth.refresh_session(session.refresh_token))


@case("auth_stack_expired_access_token_sync", "auth:bad_jwt", "auth",
      lambda why: "expired" in why.title)
async def _(env: CorpusEnv) -> list[Any]:
    import jwt

    c, session = _signed_in(env)
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 60}, env.stack.jwt_secret or "",
                         algorithm="HS256")  # the same token, an hour later
    return await failure(c, lambda c: c.sync.auth.get_user(expired))

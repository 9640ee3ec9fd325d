"""/auth/v1 through supabase-py's real auth clients, sync and async, on the session's stack.

Every test body is written once and runs with the sync ``Client`` and the ``AsyncClient``
(``settle`` awaits what the async client returns). The stack runs with its default settings:
confirmations off (autoconfirm), anonymous sign-ins on, refresh-token reuse interval 10 s.
"""

from __future__ import annotations

import inspect
import uuid
from typing import Any

import httpx
import jwt
import pytest
from supabase import AsyncClientOptions, ClientOptions, acreate_client, create_client
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

import kit
from kit.targets import Target

PASSWORD = "correct-horse-9"
CLAIMS = {"aud", "exp", "iat", "iss", "sub", "email", "phone", "role", "aal", "amr", "session_id",
          "is_anonymous", "app_metadata", "user_metadata"}


async def settle(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@pytest.fixture(params=["sync", "async"])
def new_client(request: pytest.FixtureRequest, stack: Target):
    """Fresh supabase clients (anon key unless told), sync or async: ``c = await new_client()``."""
    async def make(key: str | None = None, flow_type: str = "pkce") -> Any:
        if request.param == "sync":
            return create_client(stack.url, key or stack.anon_key, ClientOptions(flow_type=flow_type))
        # no refresh timer task left pending on the test's loop when it closes
        return await acreate_client(stack.url, key or stack.anon_key,
                                    AsyncClientOptions(auto_refresh_token=False, flow_type=flow_type))
    return make


def email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def test_sign_up_sign_in_and_get_user(new_client, stack: Target, sql) -> None:
    client, address = await new_client(), email()
    signed_up = await settle(client.auth.sign_up(
        {"email": address, "password": PASSWORD, "options": {"data": {"display_name": "Ada"}}}))
    assert signed_up.session is not None and signed_up.user.email == address
    assert signed_up.user.user_metadata["display_name"] == "Ada"
    assert [i.provider for i in signed_up.user.identities] == ["email"]
    assert signed_up.user.app_metadata == {"provider": "email", "providers": ["email"]}

    signed_in = await settle(client.auth.sign_in_with_password({"email": address.upper(), "password": PASSWORD}))
    claims = claims_of(signed_in.session.access_token)
    assert CLAIMS <= set(claims)
    assert (claims["sub"], claims["role"], claims["aud"], claims["aal"]) == (
        signed_in.user.id, "authenticated", "authenticated", "aal1")
    assert claims["iss"] == f"{stack.url}/auth/v1" and claims["amr"][0]["method"] == "password"
    assert claims["exp"] - claims["iat"] == 3600 and claims["is_anonymous"] is False
    jwt.decode(signed_in.session.access_token, stack.jwt_secret, algorithms=["HS256"], audience="authenticated")

    user = (await settle(client.auth.get_user())).user
    assert user.id == signed_in.user.id and user.email_confirmed_at is not None
    row = sql("SELECT u.email, s.user_id::text, length(u.encrypted_password) FROM auth.sessions s "
              "JOIN auth.users u ON u.id = s.user_id WHERE s.id = %s", (claims["session_id"],)).fetchone()
    assert row[0] == address and row[1] == user.id and row[2] == 60  # a bcrypt hash, never the password
    assert sql("SELECT count(*) FROM auth.users WHERE encrypted_password LIKE '$2%%' AND id = %s",
               (user.id,)).fetchone()[0] == 1


async def test_sign_in_errors_carry_supabase_error_codes(new_client) -> None:
    client, address = await new_client(), email()
    await settle(client.auth.sign_up({"email": address, "password": PASSWORD}))
    cases = [
        (client.auth.sign_in_with_password, {"email": address, "password": "wrong-password"},
         400, "invalid_credentials", "Invalid login credentials"),
        (client.auth.sign_in_with_password, {"email": email(), "password": PASSWORD},
         400, "invalid_credentials", "Invalid login credentials"),
        (client.auth.sign_up, {"email": address, "password": PASSWORD}, 422, "user_already_exists",
         "User already registered"),
        (client.auth.sign_up, {"email": "not-an-address", "password": PASSWORD}, 400, "validation_failed",
         "Unable to validate email address: invalid format"),
    ]
    for call, credentials, status, code, message in cases:
        with pytest.raises(AuthApiError) as caught:
            await settle(call(credentials))
        assert (caught.value.status, caught.value.code, caught.value.message) == (status, code, message)
    with pytest.raises(AuthWeakPasswordError) as weak:
        await settle(client.auth.sign_up({"email": email(), "password": "12345"}))
    assert (weak.value.status, weak.value.code, weak.value.reasons) == (422, "weak_password", ["length"])


async def test_refresh_rotates_and_a_lost_answer_gets_the_current_token(new_client, sql) -> None:
    client = await new_client()
    first = (await settle(client.auth.sign_up({"email": email(), "password": PASSWORD}))).session
    second = (await settle(client.auth.refresh_session())).session
    assert second.refresh_token != first.refresh_token
    assert claims_of(second.access_token)["session_id"] == claims_of(first.access_token)["session_id"]
    revoked, parent = sql("SELECT (SELECT revoked FROM auth.refresh_tokens WHERE token = %s), "
                          "(SELECT parent FROM auth.refresh_tokens WHERE token = %s)",
                          (first.refresh_token, second.refresh_token)).fetchone()
    assert revoked is True and parent == first.refresh_token
    # the first token again, within the reuse interval: the client lost the answer, it gets it back
    other = await new_client()
    again = (await settle(other.auth.refresh_session(first.refresh_token))).session
    assert again.refresh_token == second.refresh_token
    with pytest.raises(AuthApiError) as unknown:
        await settle(other.auth.refresh_session("no-such-token"))
    assert (unknown.value.status, unknown.value.code) == (400, "refresh_token_not_found")


async def test_update_user_metadata_password_and_email(new_client, stack_dir) -> None:
    client, address = await new_client(), email()
    await settle(client.auth.sign_up({"email": address, "password": PASSWORD,
                                      "options": {"data": {"plan": "free", "theme": "dark"}}}))
    updated = (await settle(client.auth.update_user({"data": {"plan": "pro", "theme": None}}))).user
    assert updated.user_metadata["plan"] == "pro" and "theme" not in updated.user_metadata
    with pytest.raises(AuthApiError) as same:
        await settle(client.auth.update_user({"password": PASSWORD}))
    assert (same.value.status, same.value.code) == (422, "same_password")
    await settle(client.auth.update_user({"password": "another-secret-7"}))
    fresh = await new_client()
    with pytest.raises(AuthApiError):
        await settle(fresh.auth.sign_in_with_password({"email": address, "password": PASSWORD}))
    await settle(fresh.auth.sign_in_with_password({"email": address, "password": "another-secret-7"}))

    new_address = email()
    pending = (await settle(client.auth.update_user({"email": new_address}))).user
    assert pending.email == address and pending.new_email == new_address
    mail = kit.stack.outbox(stack_dir, to=new_address)[-1]
    assert mail.kind == "email_change" and len(mail.otp) == 6
    verified = await settle(client.auth.verify_otp({"email": new_address, "token": mail.otp,
                                                    "type": "email_change"}))
    assert verified.user.email == new_address and verified.user.new_email is None


async def test_logout_scopes_end_the_right_sessions(new_client) -> None:
    address = email()
    first = await new_client()
    await settle(first.auth.sign_up({"email": address, "password": PASSWORD}))
    second, third = await new_client(), await new_client()
    sessions = [(await settle(c.auth.sign_in_with_password({"email": address, "password": PASSWORD}))).session
                for c in (second, third)]
    first_token = (await settle(first.auth.get_session())).access_token

    async def alive(token: str) -> bool:
        try:
            await settle(first.auth.get_user(token))
        except AuthApiError as exc:
            assert (exc.status, exc.code) == (403, "session_not_found")
            return False
        return True

    await settle(third.auth.sign_out({"scope": "others"}))
    assert [await alive(t) for t in (first_token, sessions[0].access_token, sessions[1].access_token)] == [
        False, False, True]
    assert await settle(third.auth.get_session()) is not None  # "others" keeps this device signed in
    await settle(third.auth.sign_out({"scope": "local"}))
    assert await settle(third.auth.get_session()) is None and not await alive(sessions[1].access_token)

    again = await new_client()
    tokens = [(await settle(c.auth.sign_in_with_password({"email": address, "password": PASSWORD}))).session
              for c in (again, second)]
    await settle(again.auth.sign_out())  # global
    assert [await alive(t.access_token) for t in tokens] == [False, False]


async def test_anonymous_sign_in_then_claim_an_email(new_client) -> None:
    client = await new_client()
    anonymous = await settle(client.auth.sign_in_anonymously({"options": {"data": {"cart": 3}}}))
    claims = claims_of(anonymous.session.access_token)
    assert claims["is_anonymous"] is True and claims["role"] == "authenticated"
    assert anonymous.user.is_anonymous and anonymous.user.email == "" and claims["amr"][0]["method"] == "anonymous"
    with pytest.raises(AuthApiError) as no_email:
        await settle(client.auth.update_user({"password": PASSWORD}))
    assert (no_email.value.status, no_email.value.code) == (422, "validation_failed")
    address = email()
    claimed = (await settle(client.auth.update_user({"email": address}))).user
    assert claimed.email == address and claimed.is_anonymous is False and claimed.user_metadata["cart"] == 3


async def test_magic_link_by_code_and_by_link(new_client, stack: Target, stack_dir) -> None:
    client, address = await new_client(), email()
    await settle(client.auth.sign_in_with_otp({"email": address, "options": {"data": {"source": "otp"}}}))
    mail = kit.stack.outbox(stack_dir, to=address)[-1]
    assert mail.kind == "magiclink" and mail.link.startswith(f"{stack.url}/auth/v1/verify?token=")
    assert "123456" not in repr(mail) and mail.otp not in repr(mail)
    with pytest.raises(AuthApiError) as wrong:
        await settle(client.auth.verify_otp({"email": address, "token": "000000" if mail.otp != "000000"
                                             else "111111", "type": "email"}))
    assert (wrong.value.status, wrong.value.code) == (403, "otp_expired")
    session = (await settle(client.auth.verify_otp({"email": address, "token": mail.otp, "type": "email"}))).session
    assert session is not None and session.user.user_metadata["source"] == "otp"
    with pytest.raises(AuthApiError):  # a code works once
        await settle(client.auth.verify_otp({"email": address, "token": mail.otp, "type": "email"}))

    # the mailed link, opened as a browser would (a second mail to `address` within 1 s would be a 429).
    # supabase-py's default flow is PKCE: the link answers ?code=, which the app exchanges
    other = email()
    await settle(client.auth.sign_in_with_otp({"email": other}))
    link = kit.stack.outbox(stack_dir, to=other)[-1].link
    assert "token=pkce_" in link
    async with httpx.AsyncClient() as browser:
        followed, reused = await browser.get(link), await browser.get(link)
    assert followed.status_code == 303 and "error_code=otp_expired" in reused.headers["location"]
    code = followed.headers["location"].split("?code=", 1)[1]
    with pytest.raises(AuthApiError) as wrong_verifier:
        await settle(client.auth.exchange_code_for_session({"auth_code": code, "code_verifier": "x" * 43}))
    assert (wrong_verifier.value.status, wrong_verifier.value.code) == (400, "bad_code_verifier")
    exchanged = await settle(client.auth.exchange_code_for_session({"auth_code": code}))
    assert exchanged.user.email == other and claims_of(exchanged.session.access_token)["amr"][0]["method"] == "magiclink"
    with pytest.raises(AuthApiError) as used:
        await settle(client.auth.exchange_code_for_session({"auth_code": code, "code_verifier": "x" * 43}))
    assert (used.value.status, used.value.code) == (404, "flow_state_not_found")

    implicit, third = await new_client(flow_type="implicit"), email()
    await settle(implicit.auth.sign_in_with_otp({"email": third}))
    async with httpx.AsyncClient() as browser:
        followed = await browser.get(kit.stack.outbox(stack_dir, to=third)[-1].link)
    fragment = dict(p.split("=", 1) for p in followed.headers["location"].split("#", 1)[1].split("&"))
    assert fragment["type"] == "magiclink" and claims_of(fragment["access_token"])["email"] == third
    with pytest.raises(AuthApiError) as no_signup:
        await settle(client.auth.sign_in_with_otp({"email": email(), "options": {"should_create_user": False}}))
    assert (no_signup.value.status, no_signup.value.code) == (422, "otp_disabled")


async def test_recovery_sets_a_new_password(new_client, stack_dir) -> None:
    client, address = await new_client(), email()
    await settle(client.auth.sign_up({"email": address, "password": PASSWORD}))
    await settle(client.auth.reset_password_for_email(address))
    await settle(client.auth.reset_password_for_email(email()))  # unknown: same quiet answer
    mail = kit.stack.outbox(stack_dir, to=address, kind="recovery")[-1]
    recovered = await settle(client.auth.verify_otp({"token_hash": mail.token_hash, "type": "recovery"}))
    assert recovered.session is not None
    await settle(client.auth.update_user({"password": "recovered-pass-1"}))
    fresh = await new_client()
    assert (await settle(fresh.auth.sign_in_with_password(
        {"email": address, "password": "recovered-pass-1"}))).session is not None
    # resend for a confirmed address sends nothing and says nothing
    before = len(kit.stack.outbox(stack_dir, to=address))
    await settle(client.auth.resend({"type": "signup", "email": address}))
    assert len(kit.stack.outbox(stack_dir, to=address)) == before


async def test_admin_api_with_the_service_key(new_client, stack: Target) -> None:
    admin = (await new_client(stack.service_role_key)).auth.admin
    address = email()
    created = (await settle(admin.create_user({"email": address, "password": PASSWORD, "email_confirm": True,
                                               "user_metadata": {"team": "red"},
                                               "app_metadata": {"tier": "gold"}}))).user
    assert created.email_confirmed_at is not None and created.app_metadata["tier"] == "gold"
    assert created.app_metadata["provider"] == "email"
    fetched = (await settle(admin.get_user_by_id(created.id))).user
    assert fetched.user_metadata["team"] == "red"
    users = await settle(admin.list_users(page=1, per_page=1000))
    assert created.id in {u.id for u in users}
    with pytest.raises(AuthApiError) as taken:
        await settle(admin.create_user({"email": address, "password": PASSWORD}))
    assert (taken.value.status, taken.value.code) == (422, "email_exists")

    banned = (await settle(admin.update_user_by_id(created.id, {"ban_duration": "24h",
                                                               "user_metadata": {"team": "blue"}}))).user
    assert banned.banned_until is not None and banned.user_metadata["team"] == "blue"
    user_client = await new_client()
    with pytest.raises(AuthApiError) as refused:
        await settle(user_client.auth.sign_in_with_password({"email": address, "password": PASSWORD}))
    assert refused.value.code == "user_banned"
    await settle(admin.update_user_by_id(created.id, {"ban_duration": "none"}))
    assert (await settle(user_client.auth.sign_in_with_password(
        {"email": address, "password": PASSWORD}))).session is not None

    with pytest.raises(AuthApiError) as not_admin:
        await settle(user_client.auth.admin.list_users())  # the anon key is no admin
    assert (not_admin.value.status, not_admin.value.code) == (403, "not_admin")
    await settle(admin.delete_user(created.id))
    with pytest.raises(AuthApiError) as gone:
        await settle(admin.get_user_by_id(created.id))
    assert (gone.value.status, gone.value.code) == (404, "user_not_found")


async def test_generate_link_and_invite(new_client, stack: Target, stack_dir) -> None:
    service = await new_client(stack.service_role_key)
    address = email()
    link = await settle(service.auth.admin.generate_link({"type": "signup", "email": address,
                                                          "password": PASSWORD}))
    assert link.properties.verification_type == "signup" and len(link.properties.email_otp) == 6
    assert link.properties.action_link.startswith(f"{stack.url}/auth/v1/verify?token={link.properties.hashed_token}")
    assert link.user.email == address and link.user.email_confirmed_at is None
    user_client = await new_client()
    confirmed = await settle(user_client.auth.verify_otp({"token_hash": link.properties.hashed_token,
                                                          "type": "signup"}))
    assert confirmed.user.email_confirmed_at is not None
    assert (await settle(user_client.auth.sign_in_with_password(
        {"email": address, "password": PASSWORD}))).session is not None

    invited_address = email()
    invited = (await settle(service.auth.admin.invite_user_by_email(
        invited_address, {"data": {"role_name": "editor"}}))).user
    assert invited.invited_at is not None and invited.user_metadata["role_name"] == "editor"
    mail = kit.stack.outbox(stack_dir, to=invited_address, kind="invite")[-1]
    accepted = await settle(user_client.auth.verify_otp({"email": invited_address, "token": mail.otp,
                                                         "type": "invite"}))
    assert accepted.user.email == invited_address and accepted.session is not None
    with pytest.raises(AuthApiError) as again:
        await settle(service.auth.admin.invite_user_by_email(invited_address))
    assert (again.value.status, again.value.code) == (422, "email_exists")


def test_settings_jwks_and_error_shapes(stack: Target) -> None:
    headers = {"apikey": stack.anon_key}
    settings = httpx.get(f"{stack.url}/auth/v1/settings", headers=headers).json()
    assert settings["disable_signup"] is False and settings["mailer_autoconfirm"] is True
    assert settings["external"]["email"] is True and settings["external"]["anonymous_users"] is True
    assert settings["external"]["google"] is False and settings["external"]["phone"] is False
    assert httpx.get(f"{stack.url}/auth/v1/.well-known/jwks.json", headers=headers).json() == {"keys": []}
    assert httpx.get(f"{stack.url}/auth/v1/settings").status_code == 401  # the gateway wants an apikey

    body = {"email": email(), "password": "whatever-123"}
    legacy = httpx.post(f"{stack.url}/auth/v1/token?grant_type=password", headers=headers, json=body)
    assert legacy.status_code == 400 and legacy.headers["x-sb-error-code"] == "invalid_credentials"
    assert legacy.json() == {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}
    dated = httpx.post(f"{stack.url}/auth/v1/token?grant_type=password", json=body,
                       headers={**headers, "X-Supabase-Api-Version": "2024-01-01"})
    assert dated.json() == {"code": "invalid_credentials", "message": "Invalid login credentials"}
    assert dated.headers["X-Supabase-Api-Version"] == "2024-01-01"
    no_token = httpx.get(f"{stack.url}/auth/v1/user", headers=headers)
    assert (no_token.status_code, no_token.json()["error_code"]) == (401, "no_authorization")
    anon_user = httpx.get(f"{stack.url}/auth/v1/user", headers={**headers, "Authorization": f"Bearer {stack.anon_key}"})
    assert (anon_user.status_code, anon_user.json()["msg"]) == (403, "invalid claim: missing sub claim")
    forged = jwt.encode({"sub": str(uuid.uuid4()), "role": "authenticated"}, "not-the-stack-secret-but-long-enough-1234", algorithm="HS256")
    bad = httpx.get(f"{stack.url}/auth/v1/user", headers={**headers, "Authorization": f"Bearer {forged}"})
    assert (bad.status_code, bad.json()["error_code"]) == (403, "bad_jwt")
    for hostile in (b"{not json", b'{"email": "a\\u0000b@example.com", "password": "x"}', b"\xff\xfe",
                    b'{"data": {"k": "\\ud800"}, "email": "a@example.com"}', b"[" * 5000):
        garbage = httpx.post(f"{stack.url}/auth/v1/signup", headers=headers, content=hostile)
        assert (garbage.status_code, garbage.json()["error_code"]) == (400, "bad_json"), hostile
    unknown = httpx.get(f"{stack.url}/auth/v1/no-such-route", headers=headers)
    assert (unknown.status_code, unknown.text) == (404, "404 page not found\n")

"""Auth settings change what the stack does, and ``/settings`` tells the truth about them.

A second stack runs with confirmations on (no autoconfirm), anonymous sign-ins off, no
refresh-token reuse interval, 2-second access tokens and 3-second sessions; then it is
restarted with sign-ups disabled. Clients have auto-refresh off so no timer rotates tokens
behind the test's back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from supabase import ClientOptions, create_client
from supabase_auth.errors import AuthApiError

import kit
from kit.errors import UsageError
from kit.stack.auth.settings import AuthSettings
from kit.targets import Target

PASSWORD = "config-secret-1"
SETTINGS = {"mailer_autoconfirm": "off", "anonymous_users": False, "refresh_token_reuse_interval": 0,
            "jwt_expiry": 2, "session_timebox": 3}


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, Path]]:
    folder = tmp_path_factory.mktemp("strict") / ".kit" / "stack"
    target = kit.stack.start(folder, auth=SETTINGS)
    yield target, folder
    kit.stack.stop(folder)


def client(target: Target) -> Any:
    return create_client(target.url, target.anon_key, ClientOptions(auto_refresh_token=False))


def error_of(call: Any, *args: Any) -> tuple[int, str | None]:
    with pytest.raises(AuthApiError) as caught:
        call(*args)
    return caught.value.status, caught.value.code


def test_settings_are_validated_and_a_running_stack_is_not_reconfigured(strict) -> None:
    target, folder = strict
    assert AuthSettings.load(folder).mailer_autoconfirm is False
    allowed = AuthSettings.from_options({"site_url": "https://app.example.com",
                                         "additional_redirect_urls": "myapp://*, https://*.example.org/**"})
    assert [allowed.redirect_allowed(u) for u in (
        "https://app.example.com/welcome", "http://app.example.com/", "https://evil.example.net/",
        "http://127.0.0.1:8123/cb", "myapp://callback", "https://docs.example.org/a/b", "")] == [
        True, False, False, True, True, True, False]
    with pytest.raises(UsageError, match="unknown auth setting 'autoconfirm'"):
        AuthSettings.from_options({"autoconfirm": True})
    with pytest.raises(UsageError, match="must be on or off"):
        AuthSettings.from_options({"disable_signup": "maybe"})
    with pytest.raises(UsageError, match="other auth settings"):
        kit.stack.start(folder, auth={"jwt_expiry": 60})
    assert kit.stack.start(folder, auth={"jwt_expiry": 2}).url == target.url  # same settings: reused
    settings = httpx.get(f"{target.url}/auth/v1/settings", headers={"apikey": target.anon_key}).json()
    assert settings["mailer_autoconfirm"] is False and settings["external"]["anonymous_users"] is False


def test_confirmation_mail_resend_and_rate_limit(strict) -> None:
    target, folder = strict
    c, address = client(target), f"confirm-{uuid.uuid4().hex[:8]}@example.com"
    signed_up = c.auth.sign_up({"email": address, "password": PASSWORD})
    assert signed_up.session is None and signed_up.user.confirmation_sent_at is not None
    assert error_of(c.auth.sign_in_with_password, {"email": address, "password": PASSWORD}) == (
        400, "email_not_confirmed")
    assert error_of(c.auth.resend, {"type": "signup", "email": address}) == (429, "over_email_send_rate_limit")
    time.sleep(1.1)  # email_max_frequency is 1 s
    c.auth.resend({"type": "signup", "email": address})
    mails = kit.stack.outbox(folder, to=address, kind="signup")
    assert len(mails) == 2
    if mails[0].otp != mails[1].otp:  # the resent code replaced the first one
        assert error_of(c.auth.verify_otp, {"email": address, "token": mails[0].otp, "type": "signup"}) == (
            403, "otp_expired")
    assert c.auth.verify_otp({"email": address, "token": mails[1].otp, "type": "signup"}).session is not None
    assert c.auth.sign_in_with_password({"email": address, "password": PASSWORD}).session is not None
    # signing up again with a confirmed address answers a look-alike user, not an error
    again = client(target).auth.sign_up({"email": address, "password": PASSWORD})
    assert again.session is None and again.user.id != signed_up.user.id
    assert error_of(c.auth.sign_in_anonymously) == (422, "anonymous_provider_disabled")


def test_reuse_detection_expired_tokens_and_time_boxed_sessions(strict) -> None:
    target, _ = strict
    admin = create_client(target.url, target.service_role_key or "").auth.admin
    address = f"reuse-{uuid.uuid4().hex[:8]}@example.com"
    admin.create_user({"email": address, "password": PASSWORD, "email_confirm": True})
    victim, attacker = client(target), client(target)
    first = victim.auth.sign_in_with_password({"email": address, "password": PASSWORD}).session
    current = victim.auth.refresh_session().session
    assert current.refresh_token != first.refresh_token
    assert error_of(attacker.auth.refresh_session, first.refresh_token) == (400, "refresh_token_already_used")
    assert error_of(victim.auth.get_user, current.access_token) == (403, "session_not_found")  # session ended
    assert error_of(victim.auth.refresh_session, current.refresh_token)[0] == 400

    session = client(target).auth.sign_in_with_password({"email": address, "password": PASSWORD}).session
    time.sleep(3.1)  # past the 2 s access token and the 3 s session time box
    # Auth allows no clock skew (/rest allows PostgREST's 30 s, so it still takes this token)
    assert error_of(victim.auth.get_user, session.access_token) == (403, "bad_jwt")
    assert error_of(victim.auth.refresh_session, session.refresh_token) == (400, "session_expired")


def test_stack_up_names_a_bad_auth_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kit.cli import EXIT_USAGE, main

    folder = str(tmp_path / "never-started")
    assert main(["stack", "up", "--data-dir", folder, "--auth", "jwt_expiry=soon"]) == EXIT_USAGE
    assert main(["stack", "up", "--data-dir", folder, "--auth", "autoconfirm"]) == EXIT_USAGE
    errors = capsys.readouterr().err.splitlines()
    assert errors == [("kit: auth setting jwt_expiry must be a whole number, not 'soon'. Fix: pass for "
                       "example jwt_expiry=60"),
                      ("kit: --auth takes NAME=VALUE, not 'autoconfirm'. Fix: for example --auth "
                       "mailer_autoconfirm=off")]
    assert not (tmp_path / "never-started").exists()  # nothing was started or written


def test_pkce_sign_up_confirmation_link_gives_a_code_to_exchange(strict) -> None:
    target, folder = strict
    c, address = client(target), f"pkce-{uuid.uuid4().hex[:8]}@example.com"  # supabase-py's default flow
    assert client(target).auth.sign_up({"email": f"x-{address}", "password": PASSWORD, "options": {
        "email_redirect_to": "https://evil.example.net/"}}).session is None  # not allowed: the site URL instead
    assert kit.stack.outbox(folder, to=f"x-{address}")[-1].redirect_to == "http://127.0.0.1:3000"
    assert c.auth.sign_up({"email": address, "password": PASSWORD,
                           "options": {"email_redirect_to": "http://127.0.0.1:3000/welcome"}}).session is None
    mail = kit.stack.outbox(folder, to=address, kind="signup")[-1]
    assert mail.token_hash.startswith("pkce_") and mail.redirect_to == "http://127.0.0.1:3000/welcome"
    opened = httpx.get(mail.link, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].startswith(
        "http://127.0.0.1:3000/welcome?code=")
    code = opened.headers["location"].split("?code=", 1)[1]
    session = c.auth.exchange_code_for_session({"auth_code": code}).session
    assert session.user.email == address and session.user.email_confirmed_at is not None


def test_disabled_sign_ups(strict) -> None:
    """Last in this file: it restarts the module's stack with sign-ups off."""
    target, folder = strict
    kit.stack.stop(folder)
    target = kit.stack.start(folder, auth={**SETTINGS, "disable_signup": True})
    c = client(target)
    assert error_of(c.auth.sign_up, {"email": "nobody@example.com", "password": PASSWORD}) == (422, "signup_disabled")
    assert error_of(c.auth.sign_in_with_otp, {"email": "nobody@example.com"}) == (422, "otp_disabled")
    settings = httpx.get(f"{target.url}/auth/v1/settings", headers={"apikey": target.anon_key}).json()
    assert settings["disable_signup"] is True

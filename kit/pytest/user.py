"""``kit_user``: a user signed in through the target's Auth, with clients that act as them.

    def test_my_rows(kit_user):
        kit_user.clients.sync.table("notes").insert({"body": "x"}).execute()   # as the user, RLS on
        kit_user.id, kit_user.email

The user is created with the admin API (``auth.admin.create_user``, email confirmed), signs
in with a password (``auth.sign_in_with_password``) and is deleted after the test. Their
clients send the session's access token, re-signed with the target's JWT secret to carry
this test's ``kit_test`` tag (same claims otherwise), so their REST writes are undone like
every other write of the test. Without the secret (a remote project) the token is sent as
Auth issued it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kit.clients import Clients
    from kit.targets import Target


@dataclass(frozen=True)
class SignedInUser:
    """A signed-in user: ``id``, ``email``, their recording ``clients`` (sync and async)."""

    id: str
    email: str
    clients: Clients = field(repr=False)
    password: str = field(repr=False)
    access_token: str = field(repr=False)

    def __repr__(self) -> str:
        return f"<SignedInUser {self.email} id={self.id}>"


def tagged_token(target: Target, token: str, tag: str) -> str:
    """``token`` with the claim ``kit_test: tag``, re-signed with the target's secret."""
    if not target.jwt_secret:
        return token
    import jwt

    claims = jwt.decode(token, target.jwt_secret, algorithms=["HS256"],
                        options={"verify_aud": False})
    return jwt.encode({**claims, "kit_test": tag}, target.jwt_secret, algorithm="HS256")


def sign_in_new_user(target: Target, admin: Clients, tag: str) -> SignedInUser:
    """Create a confirmed user with the admin API, sign them in, build their clients."""
    from kit.clients import clients
    from kit.errors import TargetError

    email = f"kit-user-{tag[:12]}@example.test"
    password = secrets.token_urlsafe(18)
    # supabase_auth's TypedDicts mark every key required; the API takes any subset
    attributes: Any = {"email": email, "password": password, "email_confirm": True}
    credentials: Any = {"email": email, "password": password}
    made = admin.sync.auth.admin.create_user(attributes)
    signer = clients(target, role="anon")
    try:
        session = signer.sync.auth.sign_in_with_password(credentials).session
    finally:
        signer.close()
    if session is None:
        admin.sync.auth.admin.delete_user(made.user.id)
        raise TargetError(f"{email} was created but signing in gave no session",
                          fix="check the target's Auth settings (email confirmation, sign-ins)")
    token = tagged_token(target, session.access_token, tag)
    built = clients(target, role="anon", headers={"Authorization": f"Bearer {token}"})
    built.capture.add_secrets(token, session.access_token, session.refresh_token, password)
    return SignedInUser(made.user.id, email, built, password, session.access_token)


def delete_user(admin: Clients, user: SignedInUser) -> None:
    user.clients.close()
    admin.sync.auth.admin.delete_user(user.id)

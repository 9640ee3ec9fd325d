"""Passwords: bcrypt hashes (as Supabase Auth stores them) and GoTrue's strength rules.

Hashing at a cost above 4 runs in a worker thread (bcrypt releases the GIL), so a sign-in
never stalls the stack's event loop for long; at cost 4 (~1.5 ms) the hand-off would cost
more. Rules from Supabase Auth internal/api/password.go: at most 72 bytes (bcrypt's limit,
``validation_failed``), at least ``minimum_password_length`` characters (``weak_password``
with reason ``length``, HTTP 422).

    digest = await hash_password("s3cret-pass", cost=4)
    await password_matches("s3cret-pass", digest)        # True
"""

from __future__ import annotations

import asyncio
import secrets

import bcrypt

from kit.stack.auth.problems import AuthProblem, validation

MAX_PASSWORD_BYTES = 72
INLINE_COST = 4  # bcrypt's minimum (~1.5 ms) runs on the loop; any higher cost in a worker thread


def check_strength(password: str, minimum_length: int) -> None:
    """Raise GoTrue's answer for a password it would refuse."""
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise validation(f"Password cannot be longer than {MAX_PASSWORD_BYTES} characters")
    if len(password) < minimum_length:
        raise AuthProblem(422, "weak_password", f"Password should be at least {minimum_length} characters.",
                          reasons=["length"])


async def hash_password(password: str, *, cost: int) -> str:
    if cost <= INLINE_COST:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()
    return (await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(cost))).decode()


async def password_matches(password: str, digest: str | None) -> bool:
    """True when ``password`` matches the stored bcrypt ``digest`` (False for no or a foreign digest)."""
    if not digest or not digest.startswith("$2"):
        return False
    try:
        if _cost(digest) <= INLINE_COST:  # ~1.5 ms: cheaper than the hand-off to a thread
            return bcrypt.checkpw(password.encode(), digest.encode())
        return await asyncio.to_thread(bcrypt.checkpw, password.encode(), digest.encode())
    except ValueError:  # a malformed hash in the table: no password matches it
        return False


def _cost(digest: str) -> int:
    """``$2b$04$...`` → 4 (unknown shapes count as expensive)."""
    parts = digest.split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else 99


def random_password() -> str:
    """A password nobody knows, for users created without one (invites, OTP sign-ups)."""
    return secrets.token_urlsafe(32)[:64]

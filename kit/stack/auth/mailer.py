"""Auth emails, delivered to a local outbox instead of the internet.

Supabase Auth mails a one-time code and a link for sign-up confirmation, magic links,
password recovery, invites and email changes (internal/mailer). The embedded stack appends
each mail as one JSON line to ``<data dir>/outbox.jsonl`` (mode 0600); ``kit.stack.outbox()``
reads it back. Facts kept from Supabase Auth: the code is ``otp_length`` digits, the stored
token is ``sha224(email + code)`` in hex, the link is
``<API URL>/auth/v1/verify?token=<hash>&type=<type>&redirect_to=<site url>``, and a user gets
at most one mail per ``email_max_frequency`` seconds (429 ``over_email_send_rate_limit``).

    mail = kit.stack.outbox(to="ada@example.com")[-1]
    mail.kind, mail.otp, mail.link            # ('signup', '123456', 'http://…/auth/v1/verify?…')
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from kit.stack.auth.problems import AuthProblem

FILE_NAME = "outbox.jsonl"
SUBJECTS = {"signup": "Confirm your email address", "invite": "You've been invited",
            "magiclink": "Your sign-in link", "recovery": "Reset your password",
            "email_change": "Confirm your new email address"}
# the users column that holds each kind's token hash, and the one with its sent time
TOKEN_COLUMNS = {"signup": ("confirmation_token", "confirmation_sent_at"),
                 "invite": ("confirmation_token", "confirmation_sent_at"),
                 "magiclink": ("recovery_token", "recovery_sent_at"),
                 "recovery": ("recovery_token", "recovery_sent_at"),
                 "email_change": ("email_change_token_new", "email_change_sent_at")}


@dataclass(frozen=True, repr=False)
class Mail:
    """One mail of the outbox; its code and link are there to be used, never shown in ``repr``."""

    kind: str
    to: str
    subject: str
    otp: str
    token_hash: str
    link: str
    redirect_to: str
    sent_at: str

    def __repr__(self) -> str:
        return f"<Mail {self.kind} to {self.to} at {self.sent_at}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        import html

        return {"text/plain": repr(self),
                "text/html": f"<p>✉ <b>{html.escape(self.subject)}</b> to {html.escape(self.to)} "
                             f"({html.escape(self.kind)}, {html.escape(self.sent_at)}); code and link "
                             "are in <code>.otp</code> and <code>.link</code></p>"}


def token_hash(email: str, otp: str) -> str:
    return hashlib.sha224((email + otp).encode()).hexdigest()


def action_link(api_url: str, hashed: str, kind: str, redirect_to: str) -> str:
    """The link a mail carries: ``<API URL>/auth/v1/verify?token=<hash>&type=<kind>&redirect_to=<url>``."""
    return f"{api_url}/verify?" + urlencode({"token": hashed, "type": kind, "redirect_to": redirect_to})


def new_otp(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def check_frequency(sent_at: datetime | None, max_frequency: int) -> None:
    """GoTrue's ``validateSentWithinFrequencyLimit``."""
    if sent_at is None or max_frequency <= 0:
        return
    left = (sent_at.timestamp() + max_frequency) - datetime.now(timezone.utc).timestamp()
    if left > 0:
        raise AuthProblem(429, "over_email_send_rate_limit",
                          f"For security purposes, you can only request this after {int(left) + 1} seconds.")


class Outbox:
    """The stack side: appends mails to the data directory's outbox file."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock = threading.Lock()

    def send(self, kind: str, to: str, otp: str, hashed: str, api_url: str, redirect_to: str) -> Mail:
        link = action_link(api_url, hashed, kind, redirect_to)
        mail = Mail(kind, to, SUBJECTS[kind], otp, hashed, link, redirect_to,
                    datetime.now(timezone.utc).isoformat())
        line = json.dumps(asdict(mail)) + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as fh:
                fh.write(line)
        return mail


def read_outbox(data_dir: Path, *, to: str | None = None, kind: str | None = None) -> list[Mail]:
    """Every mail in the outbox, oldest first, optionally only those ``to`` one address or of one ``kind``."""
    path = data_dir / FILE_NAME
    if not path.exists():
        return []
    mails = [Mail(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    return [m for m in mails if (to is None or m.to.lower() == to.lower()) and (kind is None or m.kind == kind)]

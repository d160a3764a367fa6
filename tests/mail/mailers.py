"""Mailers and a model for the mail tests, in an importable module (a worker finds
the mailer of a delivery job by its module and name)."""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar

from activejob import Job
from activejob.globalid import register_model
from activejob.mail import Attachment, Mailer, action

USERS: dict[int, tuple[str, str]] = {
    int(key): (name, email)
    for key, (name, email) in json.loads(os.environ.get("MAIL_TEST_USERS", "{}")).items()
}
"""The "database": id → (name, email). A test changes it to show a record is loaded
fresh; a worker in a subprocess reads its rows from ``MAIL_TEST_USERS`` (JSON)."""


@register_model(name="MailTestUser")
class User:
    def __init__(self, id: int, name: str, email: str) -> None:
        self.id, self.name, self.email = id, name, email

    @classmethod
    def locate(cls, id: str) -> User | None:
        row = USERS.get(int(id))
        return None if row is None else cls(int(id), *row)


class UserMailer(Mailer):
    default_from = "Shop <shop@example.com>"
    default_reply_to = "help@example.com"
    default_bcc = "archive@example.com"
    default_headers: ClassVar[dict[str, str]] = {"X-Mailer": "activejob-tests"}

    def welcome(self, user: User) -> EmailMessage:
        return self.mail(
            to=f"{user.name} <{user.email}>",
            subject=f"Welcome, {user.name}",
            text=f"Hello {user.name}, welcome to the shop. Prix: 10 €",
            html=f"<p>Hello <b>{user.name}</b>, welcome to the shop.</p>",
        )

    def invoice(self, user: User, number: int) -> EmailMessage:
        return self.mail(
            to=user.email,
            cc=["accounts@example.com"],
            subject=f"Invoice {number}",
            text="Your invoice is attached.",
            attachments=[
                Attachment(f"invoice-{number}.pdf", b"%PDF-1.4 fake\x00\xff"),
                ("notes.txt", "thank you"),
            ],
            headers={"X-Invoice": str(number)},
        )

    def maybe(self, send: bool) -> EmailMessage | None:
        if send:
            return self.mail(to="ada@example.com", subject="Sent", text="yes")
        return None

    @action
    def typed(self, address: str) -> EmailMessage:
        return self.mail(to=address, subject="Typed", html="<p>only html</p>")


class TemplateMailer(Mailer):
    default_from = "shop@example.com"
    template_dir = Path(__file__).parent / "templates"

    def receipt(self, user: User, total: int) -> None:
        self.user = user
        self.mail(to=user.email, subject="Receipt", context={"total": total})

    def missing(self) -> None:
        self.mail(to="ada@example.com", subject="No template")


class NewsletterJob(Job):
    """Sends one message per address from inside a job: they share a connection."""

    def perform(self, addresses: list[str]) -> None:
        for address in addresses:
            UserMailer.typed(address).deliver_now()

"""The mailers of a little shop, used by docs/mail.md (and run by its tests)."""

from __future__ import annotations

from email.message import EmailMessage

from activejob.globalid import register_model
from activejob.mail import Mailer

CUSTOMERS = {1: ("Ada", "ada@example.com"), 2: ("Grace", "grace@example.com")}


@register_model(name="Customer")
class Customer:
    """A record that travels as a GlobalID: the worker loads it fresh."""

    def __init__(self, id: int, name: str, email: str) -> None:
        self.id, self.name, self.email = id, name, email

    @classmethod
    def locate(cls, id: str) -> Customer | None:
        row = CUSTOMERS.get(int(id))
        return None if row is None else cls(int(id), *row)


class UserMailer(Mailer):
    default_from = "Shop <shop@example.com>"
    default_reply_to = "help@example.com"

    def welcome(self, customer: Customer) -> EmailMessage:
        return self.mail(
            to=customer.email,
            subject=f"Welcome, {customer.name}",
            text=f"Hello {customer.name}, thanks for signing up.",
            html=f"<p>Hello <b>{customer.name}</b>, thanks for signing up.</p>",
        )

    def receipt(self, customer: Customer, total_cents: int) -> None:
        # No text= or html=: the bodies come from templates/user_mailer/receipt.{txt,html}
        self.customer = customer
        self.total = f"{total_cents / 100:.2f}"
        self.mail(
            to=customer.email,
            subject="Your receipt",
            attachments={"receipt.csv": f"total,{self.total}\n"},
        )

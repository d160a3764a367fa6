"""Checked by mypy in tests/mail/test_typing.py: lines with an "E:" comment must be
flagged with that error code, and no other line may be."""

from __future__ import annotations

from email.message import EmailMessage

from activejob import Job
from activejob.mail import Mailer, MessageDelivery, action


class TypedMailer(Mailer):
    default_from = "shop@example.com"

    @action
    def welcome(self, address: str, *, vip: bool = False) -> EmailMessage:
        return self.mail(to=address, subject="Welcome", text="vip" if vip else "hi")


delivery: MessageDelivery = TypedMailer.welcome("ada@example.com", vip=True)
job: Job = delivery.deliver_later(wait=60, queue="mailers", priority=1)
sent: EmailMessage | None = TypedMailer.welcome("ada@example.com").deliver_now()

TypedMailer.welcome(42)  # E: arg-type
TypedMailer.welcome("ada@example.com", vip="yes")  # E: arg-type
TypedMailer.welcome()  # E: call-arg
delivery.deliver_later(wait="soon")  # E: arg-type
own: EmailMessage | None = TypedMailer().welcome("ada@example.com")  # on an instance: a method

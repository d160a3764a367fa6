"""A mailer whose deliveries retry longer than the default (docs/mail.md)."""

from email.message import EmailMessage

import activejob
from activejob.mail import MailDeliveryJob, Mailer, TransientDeliveryError


@activejob.retry_on(TransientDeliveryError, wait=60, attempts=30)
class PatientDelivery(MailDeliveryJob):
    """Every minute for half an hour; its own rule comes before the default one."""


class NewsletterMailer(Mailer):
    default_from = "news@example.com"
    delivery_job = PatientDelivery

    def issue(self, address: str, number: int) -> EmailMessage:
        return self.mail(to=address, subject=f"Issue {number}", text="This month...")

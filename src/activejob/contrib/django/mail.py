"""A Django email backend that sends every message through a delivery job.

In ``settings.py``::

    EMAIL_BACKEND = "activejob.contrib.django.mail.EmailBackend"
    ACTIVEJOB_MAIL_URL = "smtp://user:password@smtp.example.com:587?starttls=true"  # or the env var

``send_mail``, ``EmailMessage.send()`` and everything else that sends Django
email then enqueue one :class:`~activejob.mail.MessageDeliveryJob` per message
and return at once; a worker delivers it through the configured mail URL, with
retries for transient SMTP failures. The message travels as its RFC 5322 text,
with its envelope (sender, and every recipient, Bcc included, which Django keeps
out of the headers). The optional ``ACTIVEJOB_MAIL_URL`` setting is passed to
``activejob.mail.configure(url=...)`` when the backend is first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
from django.core.mail.backends.base import (  # type: ignore[import-untyped, unused-ignore]
    BaseEmailBackend,
)
from django.core.mail.message import (  # type: ignore[import-untyped, unused-ignore]
    EmailMessage as DjangoEmailMessage,
)

from activejob.job.options import EnqueueOptions
from activejob.mail.delivery import enqueue_text
from activejob.mail.message import text_of
from activejob.mail.settings import configure

__all__ = ["EmailBackend"]

_configured_from_settings = False


class EmailBackend(BaseEmailBackend):  # type: ignore[misc, unused-ignore]
    """Enqueues each message for delivery by a worker; ``send_messages`` returns
    how many were enqueued. With ``fail_silently``, a message that cannot be
    enqueued is skipped instead of raising.

    Keywords: ``queue`` and ``priority`` for the delivery jobs (also the
    ``ACTIVEJOB_MAIL_QUEUE`` setting).

    Example::

        from django.core.mail import send_mail
        send_mail("Welcome", "Hello!", "shop@example.com", ["ada@example.com"])
    """

    def __init__(
        self,
        fail_silently: bool = False,
        *,
        queue: str | None = None,
        priority: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.options = EnqueueOptions(
            queue=queue or getattr(settings, "ACTIVEJOB_MAIL_QUEUE", None), priority=priority
        )
        _configure_from_settings()

    def send_messages(self, email_messages: Sequence[DjangoEmailMessage]) -> int:
        """Enqueue one delivery job per message that has recipients."""
        enqueued = 0
        for message in email_messages:
            recipients = message.recipients()
            if not recipients:
                continue
            try:
                text = text_of(message.message().as_bytes(linesep="\r\n"))
                job = enqueue_text(
                    text,
                    self.options,
                    sender=str(message.from_email),
                    recipients=[str(r) for r in recipients],
                )
            except Exception:
                if not self.fail_silently:
                    raise
                continue
            if job.successfully_enqueued:
                enqueued += 1
        return enqueued


def _configure_from_settings() -> None:
    global _configured_from_settings
    if _configured_from_settings:
        return
    url = getattr(settings, "ACTIVEJOB_MAIL_URL", None)
    if url:
        configure(url=url)
    _configured_from_settings = True

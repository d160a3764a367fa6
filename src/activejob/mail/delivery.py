"""The jobs that deliver mail, and delivering a message now or later.

- :class:`MailDeliveryJob` runs a mailer action in the worker (its arguments
  travel like any job's: records by GlobalID, loaded fresh) and delivers the
  message it builds.
- :class:`MessageDeliveryJob` delivers a message built elsewhere (any
  ``email.message.EmailMessage``, a Django email), carried as RFC 5322 text.

Both run on the ``mailers`` queue and retry transient failures (4xx replies,
dropped connections, timeouts) with ``polynomially_longer`` backoff, 8 attempts
over about 80 minutes; permanent ones fail the job at once. Subclass either for
other rules and name it in ``Mailer.delivery_job``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import formatdate, make_msgid
from typing import Any

from activejob.job.base import Job
from activejob.job.options import EnqueueOptions
from activejob.job.rules import polynomially_longer, retry_on
from activejob.mail import session
from activejob.mail.errors import PermanentDeliveryError, TransientDeliveryError
from activejob.mail.message import domain_of, envelope_of, from_text, to_text
from activejob.mail.settings import current_delivery

__all__ = [
    "DELIVERY_ATTEMPTS",
    "DeliveryJob",
    "MailDeliveryJob",
    "MessageDeliveryJob",
    "deliver_later",
    "deliver_message",
    "deliver_now",
]

DELIVERY_ATTEMPTS = 8
"""Runs of a delivery job before a transient failure is final."""

_logger = logging.getLogger("activejob.mail")


@retry_on(TransientDeliveryError, wait=polynomially_longer, attempts=DELIVERY_ATTEMPTS)
class DeliveryJob(Job):
    """Base of the delivery jobs: the ``mailers`` queue and the retry rule."""

    queue_as = "mailers"


class MailDeliveryJob(DeliveryJob):
    """Runs ``mailer.action(*args, **kwargs)`` and delivers what it builds
    (Rails' ``ActionMailer::MailDeliveryJob``)."""

    def perform(
        self, mailer: str, action: str, args: list[Any], kwargs: dict[str, Any]
    ) -> str | None:
        """Build the message in this process, deliver it; returns its ``Message-ID``."""
        from activejob.mail.mailer import mailer_class

        message = mailer_class(mailer).build(action, args, kwargs)
        if message is None:
            return None  # the action decided not to send (it never called self.mail)
        deliver_message(message)
        return str(message.get("Message-ID", "")) or None


class MessageDeliveryJob(DeliveryJob):
    """Delivers a message given as RFC 5322 text, optionally with its envelope
    (a Django email keeps its Bcc recipients out of the headers).

    Its arguments stay out of log lines: they are the whole message, and a
    message may carry a password-reset link."""

    log_arguments = False

    def perform(
        self, message: str, sender: str | None = None, recipients: list[str] | None = None
    ) -> str | None:
        """Parse and deliver the message; returns its ``Message-ID``."""
        parsed = from_text(message)
        deliver_message(parsed, sender=sender, recipients=recipients)
        return str(parsed.get("Message-ID", "")) or None


def deliver_message(
    message: EmailMessage, *, sender: str | None = None, recipients: Sequence[str] | None = None
) -> None:
    """Deliver ``message`` now through the configured delivery, on the current
    job's connection if there is one. The envelope defaults to the headers
    (``From``; ``To``, ``Cc`` and ``Bcc``).

    Example::

        deliver_message(message, recipients=["ada@example.com"])
    """
    header_sender, header_recipients = envelope_of(message)
    sender = sender or header_sender
    recipients = list(recipients) if recipients else header_recipients
    if not recipients:
        raise PermanentDeliveryError(
            f"message {message.get('Message-ID', '')} has no recipients (no To, Cc or Bcc)"
        )
    if not sender:
        raise PermanentDeliveryError(f"message {message.get('Message-ID', '')} has no From")
    delivery = current_delivery()
    session.send(delivery, message, sender, recipients)
    _logger.info(
        "delivered mail %s to %d recipient(s) via %r",
        message.get("Message-ID", "(no Message-ID)"),
        len(recipients),
        delivery,
    )


def deliver_now(message: EmailMessage) -> EmailMessage:
    """Deliver any ``EmailMessage`` now, in this process; returns it.

    Example::

        activejob.mail.deliver_now(message)
    """
    deliver_message(message)
    return message


def deliver_later(
    message: Message,
    *,
    wait: float | timedelta | None = None,
    wait_until: datetime | None = None,
    queue: str | None = None,
    priority: int | None = None,
    sender: str | None = None,
    recipients: Sequence[str] | None = None,
) -> Job:
    """Enqueue a :class:`MessageDeliveryJob` for any ``email.message.EmailMessage``
    (its RFC 5322 text is the job's argument); returns the job. A message without
    ``Date`` or ``Message-ID`` gets them in the job's copy (so every retry sends
    the same id), never in ``message`` itself.

    Example::

        message = EmailMessage()
        message["From"], message["To"] = "shop@example.com", "ada@example.com"
        message["Subject"] = "Hi"
        message.set_content("Hello")
        activejob.mail.deliver_later(message, wait=timedelta(minutes=5))
    """
    return enqueue_text(
        to_text(_dated(message)),
        EnqueueOptions(wait=wait, wait_until=wait_until, queue=queue, priority=priority),
        sender=sender,
        recipients=recipients,
    )


def _dated(message: Message) -> Message:
    if message.get("Date") is not None and message.get("Message-ID") is not None:
        return message
    copy = from_text(to_text(message))
    if copy.get("Date") is None:
        copy["Date"] = formatdate(localtime=False)
    if copy.get("Message-ID") is None:
        copy["Message-ID"] = make_msgid(domain=domain_of(envelope_of(copy)[0]))
    return copy


def enqueue_text(
    text: str,
    options: EnqueueOptions,
    *,
    sender: str | None = None,
    recipients: Sequence[str] | None = None,
) -> Job:
    """Enqueue the delivery of a message already in its RFC 5322 text form."""
    job = MessageDeliveryJob(text, sender, list(recipients) if recipients else None)
    job.apply_options(options)
    return job.enqueue()

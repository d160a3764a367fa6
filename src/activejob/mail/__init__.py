"""Mail delivered by jobs: Action Mailer's ``deliver_later`` for Python.

::

    from datetime import timedelta
    import activejob.mail
    from activejob.mail import Mailer

    class UserMailer(Mailer):
        default_from = "shop@example.com"

        def welcome(self, user):
            return self.mail(to=user.email, subject="Welcome", text="...", html="...")

    activejob.mail.configure(url="smtp://user:password@mail.example.com:587?starttls=true")
    UserMailer.welcome(user).deliver_later(wait=timedelta(hours=1))
    UserMailer.welcome(user).deliver_now()
    activejob.mail.deliver_later(message)      # any email.message.EmailMessage

The action runs in the delivery job, on the ``mailers`` queue; transient SMTP
failures retry with backoff, permanent ones fail at once. In tests, the
``test:`` delivery collects messages into :data:`deliveries`; see
``docs/mail.md``.
"""

from __future__ import annotations

from activejob.mail import session as _session
from activejob.mail.deliveries.test import deliveries
from activejob.mail.delivery import (
    DeliveryJob,
    MailDeliveryJob,
    MessageDeliveryJob,
    deliver_later,
    deliver_now,
)
from activejob.mail.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from activejob.mail.mailer import Mailer, MessageDelivery, action
from activejob.mail.message import Attachment, build_message
from activejob.mail.session import connection
from activejob.mail.settings import configure
from activejob.testing.mail import (
    MailCountExpectation,
    assert_emails,
    assert_enqueued_emails,
    assert_no_emails,
    assert_no_enqueued_emails,
    expect_emails,
    expect_enqueued_emails,
    expect_no_emails,
    expect_no_enqueued_emails,
)

# -- import-time wiring of this package, all of it, here ---------------------------
_session.install()  # each job run shares one connection for all its messages

__all__ = [
    "Attachment",
    "DeliveryError",
    "DeliveryJob",
    "MailCountExpectation",
    "MailDeliveryJob",
    "Mailer",
    "MessageDelivery",
    "MessageDeliveryJob",
    "PermanentDeliveryError",
    "TransientDeliveryError",
    "action",
    "assert_emails",
    "assert_enqueued_emails",
    "assert_no_emails",
    "assert_no_enqueued_emails",
    "build_message",
    "configure",
    "connection",
    "deliver_later",
    "deliver_now",
    "deliveries",
    "expect_emails",
    "expect_enqueued_emails",
    "expect_no_emails",
    "expect_no_enqueued_emails",
]

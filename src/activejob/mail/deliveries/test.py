"""``test:``: messages are appended to :data:`deliveries`, nothing leaves the process.

Example::

    activejob.mail.configure(url="test:")
    UserMailer.welcome(user).deliver_now()
    assert activejob.mail.deliveries[-1]["To"] == "ada@example.com"
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from activejob.mail.deliveries.base import Connection, Delivery
from activejob.mail.message import copy_message

__all__ = ["TestDelivery", "deliveries"]

deliveries: list[EmailMessage] = []
"""Every message the ``test:`` delivery took, oldest first (Rails'
``ActionMailer::Base.deliveries``). The test helpers, the pytest fixture and
``ActiveJobTestMixin`` empty it in place, so ``from activejob.mail import deliveries``
stays valid."""


class _Collecting(Connection):
    def send(self, message: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
        deliveries.append(copy_message(message))  # list.append is atomic: threads may share it


class TestDelivery(Delivery):
    """The ``test:`` delivery."""

    __test__ = False  # not a pytest test class, despite the name
    scheme = "test"

    def connect(self) -> Connection:
        """A connection that appends to :data:`deliveries`."""
        return _Collecting()

"""The delivery interface: a :class:`Delivery` made from a URL opens a
:class:`Connection`, which sends messages until it is closed.

One connection serves every message of one job (see :mod:`activejob.mail.session`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from email.message import EmailMessage

__all__ = ["Connection", "Delivery"]


class Connection(ABC):
    """An open channel to the mail system; :meth:`send` as often as needed, then :meth:`close`."""

    @abstractmethod
    def send(self, message: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
        """Hand over ``message`` for ``recipients`` (the envelope), from ``sender``.

        Raises :class:`~activejob.mail.errors.TransientDeliveryError` or
        :class:`~activejob.mail.errors.PermanentDeliveryError`.
        """

    def close(self) -> None:
        """Release the connection; never raises."""


class Delivery(ABC):
    """Where messages go, made from a URL by :func:`activejob.mail.deliveries.from_url`."""

    scheme: str = ""

    @abstractmethod
    def connect(self) -> Connection:
        """Open a connection (``TransientDeliveryError`` if the server is unreachable)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme}:>"

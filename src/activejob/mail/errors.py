"""What a delivery can fail with, split by what a retry can do about it.

:class:`TransientDeliveryError` (a 4xx reply, a dropped connection, a timeout)
is retried with backoff by the delivery jobs' ``retry_on``;
:class:`PermanentDeliveryError` (a 5xx reply, refused recipients, a bad
certificate) fails the job at once. Both carry the server's code and reply.
"""

from __future__ import annotations

from activejob.errors import ActiveJobError

__all__ = ["DeliveryError", "PermanentDeliveryError", "TransientDeliveryError"]


class DeliveryError(ActiveJobError):
    """A message could not be delivered; ``code`` is the SMTP reply code, if any.

    Example::

        try:
            message.deliver_now()
        except DeliveryError as exc:
            exc.code, str(exc)     # 550, "550 5.1.1 <x@example.com>: no such user ..."
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientDeliveryError(DeliveryError):
    """Worth trying again later: a 4xx reply, a dropped connection, a timeout."""


class PermanentDeliveryError(DeliveryError):
    """No retry will help: a 5xx reply, refused recipients, a TLS or login setup error."""

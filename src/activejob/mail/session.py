"""One connection for every message of one job.

Each job's run (between its ``perform_start`` and ``perform`` events) gets a
:class:`Session`: the first message it delivers opens a connection, the next
ones reuse it, and the end of the run closes it. Outside a job, each delivery
opens and closes its own, unless it runs inside ``with activejob.mail.connection():``.

A connection that fails is closed and dropped from its session, so a later
message of the same job starts afresh.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from email.message import EmailMessage

from activejob import events
from activejob.mail.deliveries.base import Connection, Delivery
from activejob.mail.errors import DeliveryError

__all__ = ["Session", "connection", "install", "send"]

_logger = logging.getLogger("activejob.mail")
_sessions: ContextVar[tuple[Session, ...]] = ContextVar("activejob_mail_sessions", default=())


class Session:
    """The connections opened in one job run or ``connection()`` block, one per delivery."""

    def __init__(self, owner: object = None) -> None:
        self.owner = owner
        self._open: dict[int, tuple[Delivery, Connection]] = {}
        self.connections_opened = 0

    def send(
        self, delivery: Delivery, message: EmailMessage, sender: str, recipients: Sequence[str]
    ) -> None:
        """Send over this session's connection to ``delivery``, opening it if needed."""
        key = id(delivery)
        if key not in self._open:
            self._open[key] = (delivery, delivery.connect())
            self.connections_opened += 1
        connection = self._open[key][1]
        try:
            connection.send(message, sender, recipients)
        except DeliveryError:
            self._open.pop(key, None)
            connection.close()
            raise

    def close(self) -> None:
        """Close every connection (never raises)."""
        opened, self._open = self._open, {}
        for _, connection in opened.values():
            try:
                connection.close()
            except Exception:  # a close that fails must not fail the job that sent the mail
                _logger.debug("closing a mail connection failed", exc_info=True)


def send(delivery: Delivery, message: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
    """Send through the current session's connection, or a connection of its own."""
    stack = _sessions.get()
    if stack:
        stack[-1].send(delivery, message, sender, recipients)
        return
    single = delivery.connect()
    try:
        single.send(message, sender, recipients)
    finally:
        single.close()


@contextlib.contextmanager
def connection() -> Iterator[Session]:
    """Share one connection among every message delivered in the block (a job's
    run does this by itself).

    Example::

        with activejob.mail.connection():
            for user in users:
                NewsletterMailer.issue(user).deliver_now()
    """
    session = Session()
    token = _sessions.set((*_sessions.get(), session))
    try:
        yield session
    finally:
        _sessions.reset(token)
        session.close()


def _run_started(event: events.Event) -> None:
    _sessions.set((*_sessions.get(), Session(owner=event.job)))


def _run_ended(event: events.Event) -> None:
    stack = _sessions.get()
    for index in range(len(stack) - 1, -1, -1):
        if stack[index].owner is event.job:
            stack[index].close()
            _sessions.set(stack[:index] + stack[index + 1 :])
            return


def install() -> None:
    """Give each job run its session (idempotent); wired when ``activejob.mail`` is imported."""
    events.unsubscribe("perform_start", _run_started)
    events.unsubscribe("perform", _run_ended)
    events.subscribe("perform_start", _run_started)
    events.subscribe("perform", _run_ended)

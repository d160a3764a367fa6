"""``console:``: each message is printed to standard output (``console:?stream=stderr``
for standard error), for development.

Example::

    activejob.mail.configure(url="console:")
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from email.message import EmailMessage
from typing import TextIO

from activejob.mail.deliveries.base import Connection, Delivery
from activejob.mail.message import readable_text

__all__ = ["ConsoleDelivery"]

_lock = threading.Lock()  # two worker threads must not interleave their messages
_RULE = "-" * 72


class _Printing(Connection):
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def send(self, message: EmailMessage, sender: str, recipients: Sequence[str]) -> None:
        text = readable_text(message)
        with _lock:
            self._stream.write(
                f"{_RULE}\nmail from {sender} to {', '.join(recipients)}\n{_RULE}\n"
                f"{text.rstrip()}\n{_RULE}\n"
            )
            self._stream.flush()


class ConsoleDelivery(Delivery):
    """The ``console:`` delivery."""

    scheme = "console"

    def __init__(self, stream: str = "stdout") -> None:
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be stdout or stderr, got {stream!r}")
        self.stream = stream

    def connect(self) -> Connection:
        """A connection that prints to the stream (looked up now, so pytest's capture sees it)."""
        return _Printing(sys.stdout if self.stream == "stdout" else sys.stderr)

    def __repr__(self) -> str:
        return f"<ConsoleDelivery console:?stream={self.stream}>"

"""Deliveries by URL scheme: ``smtp://``, ``smtps://``, ``console:``, ``test:``.

Example::

    from_url("console:")                            # prints each message
    from_url("smtps://ada:secret@mail.example.com")  # SMTP over TLS, with login
"""

from __future__ import annotations

from urllib.parse import urlsplit

from activejob.errors import ConfigurationError
from activejob.mail.deliveries.base import Connection, Delivery
from activejob.storage.options import UrlOptions, mask_password

__all__ = ["SCHEMES", "Connection", "Delivery", "from_url"]

SCHEMES = ("smtp", "smtps", "console", "test")
"""The URL schemes :func:`from_url` knows."""

_EXAMPLES = (
    "smtp://user:password@host:587?starttls=true, smtps://user:password@host, console:, test:"
)


def from_url(url: str) -> Delivery:
    """The delivery a mail URL names; anything it cannot use raises
    :class:`~activejob.ConfigurationError` saying what and how to write it.

    Example::

        from_url("smtp://127.0.0.1:1025")
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"a mail URL is a string like {_EXAMPLES}; got {url!r}")
    shown = mask_password(url)
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    if scheme in ("smtp", "smtps"):
        from activejob.mail.deliveries.smtp import SmtpDelivery

        return SmtpDelivery.from_url(url)
    if scheme == "console":
        from activejob.mail.deliveries.console import ConsoleDelivery

        options = UrlOptions.parse(url)
        options.url = shown
        stream = options.take("stream", _stream, "stdout")
        _no_more(options, "stream")
        return ConsoleDelivery(stream)
    if scheme == "test":
        from activejob.mail.deliveries.test import TestDelivery

        options = UrlOptions.parse(url)
        options.url = shown
        _no_more(options, "none")
        return TestDelivery()
    raise ConfigurationError(
        f"unknown mail URL scheme {scheme + ':' if scheme else '(none)'} in {shown!r}: "
        f"use one of {_EXAMPLES}"
    )


def _stream(raw: str) -> str:
    if raw not in ("stdout", "stderr"):
        raise ValueError("use stdout or stderr")
    return raw


def _no_more(options: UrlOptions, known: str) -> None:
    if options.query or options.path or options.netloc:
        extra = ", ".join(sorted(options.query)) or options.netloc or options.path
        raise ConfigurationError(
            f"unknown setting(s) {extra} in mail URL {options.url!r} (known: {known})"
        )

"""Where messages go: ``activejob.mail.configure(url=...)``, else the
``ACTIVEJOB_MAIL_URL`` environment variable.

The URL is checked when it is configured (a typo raises
:class:`~activejob.ConfigurationError` there, not at the first delivery) and
turned into a delivery once. With neither set, delivering raises
``ConfigurationError`` naming both: mail never goes to a server nobody chose.
"""

from __future__ import annotations

import os
import threading

from activejob.config import get_config
from activejob.errors import ConfigurationError
from activejob.mail.deliveries import Delivery, from_url

__all__ = ["ENVIRONMENT_VARIABLE", "OPTION", "configure", "current_delivery", "mail_url"]

ENVIRONMENT_VARIABLE = "ACTIVEJOB_MAIL_URL"
OPTION = "mail_url"
"""The key of the mail URL in ``activejob.get_config().options``."""

_cache: tuple[str, Delivery] | None = None
_lock = threading.Lock()


def configure(*, url: str | None) -> None:
    """Deliver mail as ``url`` says (``None``: back to ``ACTIVEJOB_MAIL_URL``).

    Example::

        activejob.mail.configure(url="smtp://ada:secret@mail.example.com:587?starttls=true")
        activejob.mail.configure(url="console:")
    """
    if url is not None:
        from_url(url)  # raises ConfigurationError for anything it cannot use
    set_url(url)


def set_url(url: str | None) -> str | None:
    """Set the mail URL without checking it; returns the previous setting (for tests)."""
    options = get_config().options
    previous = options.get(OPTION)
    if url is None:
        options.pop(OPTION, None)
    else:
        options[OPTION] = url
    return previous if isinstance(previous, str) else None


def mail_url() -> str:
    """The mail URL in force, or ``ConfigurationError`` if none is set."""
    url = get_config().options.get(OPTION) or os.environ.get(ENVIRONMENT_VARIABLE)
    if not url:
        raise ConfigurationError(
            "no mail delivery is configured: set ACTIVEJOB_MAIL_URL or call "
            "activejob.mail.configure(url=...) (smtp://user:password@host:587?starttls=true, "
            "smtps://..., console: or test:)"
        )
    return str(url)


def current_delivery() -> Delivery:
    """The delivery the mail URL names, built once per URL."""
    global _cache
    url = mail_url()
    with _lock:
        if _cache is None or _cache[0] != url:
            _cache = (url, from_url(url))
        return _cache[1]

"""Settings read from a backend URL's query string: ``?keep_finished=7d&pool_size=10``.

Durations accept a number of seconds or a number with a unit (``ms``, ``s``,
``m``, ``h``, ``d``, ``w``). A bad value raises :class:`ConfigurationError`
naming the setting and the URL.

Example::

    options = UrlOptions.parse("sqlite:///jobs.db?keep_finished=2d&busy_timeout=5")
    options.duration("keep_finished", 7 * 86400)   # 172800.0
    options.path                                    # 'jobs.db'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from activejob.errors import ConfigurationError

__all__ = ["UrlOptions", "mask_password", "parse_bool", "parse_duration"]

T = TypeVar("T")

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d|w)?\s*$")


def parse_duration(text: str) -> float:
    """Seconds for ``"90"``, ``"1.5s"``, ``"250ms"``, ``"30m"``, ``"12h"``, ``"7d"``, ``"2w"``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (try 30s, 10m, 12h, 7d)")
    return float(match[1]) * _UNITS[match[2] or "s"]


def mask_password(url: str) -> str:
    """``url`` with its password, if any, as ``***``: safe to log.

    Example::

        mask_password("redis://:secret@host:6379/0")  # 'redis://:***@host:6379/0'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))


def parse_bool(text: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off``."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r} (try true or false)")


class UrlOptions:
    """A backend URL split into its parts, with typed access to its query settings."""

    def __init__(self, url: str, netloc: str, path: str, query: dict[str, str]) -> None:
        self.url = url
        self.netloc = netloc
        self.path = path
        self.query = query

    @classmethod
    def parse(cls, url: str) -> UrlOptions:
        """Split ``url``; ``path`` loses the one leading ``/`` after the authority."""
        parts = urlsplit(url)
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        return cls(url, parts.netloc, path, dict(parse_qsl(parts.query, keep_blank_values=True)))

    def take(self, name: str, convert: Callable[[str], T], default: T) -> T:
        """Remove setting ``name`` from :attr:`query` and convert it, or ``default``."""
        if name not in self.query:
            return default
        raw = self.query.pop(name)
        try:
            return convert(raw)
        except ValueError as exc:
            raise ConfigurationError(
                f"bad {name}={raw!r} in {mask_password(self.url)!r}: {exc}"
            ) from exc

    def duration(self, name: str, default: float) -> float:
        """A duration setting in seconds."""
        return self.take(name, parse_duration, default)

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        """An integer setting, at least ``minimum``."""

        def convert(raw: str) -> int:
            value = int(raw)
            if value < minimum:
                raise ValueError(f"must be >= {minimum}")
            return value

        return self.take(name, convert, default)

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean setting."""
        return self.take(name, parse_bool, default)

    def reject_unknown(self) -> None:
        """Raise for settings nobody took."""
        if self.query:
            raise ConfigurationError(
                f"unknown setting(s) {', '.join(sorted(self.query))} in {mask_password(self.url)!r}"
            )

"""Connecting to Redis: the URL's own settings, the client, and retrying with backoff.

redis-py's automatic retries are turned off. A command whose reply was lost may
have run, and only the caller knows whether running it again is safe, so every
storage operation says how to retry itself (see :func:`retrying`).

Example::

    settings = RedisSettings.from_url("redis://localhost:6379/0?prefix=myapp")
    client = settings.client()
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from activejob.errors import ConfigurationError
from activejob.storage.base import DEFAULT_KEEP_FINISHED
from activejob.storage.options import UrlOptions, mask_password

T = TypeVar("T")

DEFAULT_PREFIX = "activejob"
TRANSIENT: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
"""Errors after which the server may answer again (``BusyLoadingError``, raised while
Redis reloads its data after a restart, is a ``ConnectionError``)."""


@dataclass(frozen=True)
class RedisSettings:
    """Where the jobs live: the server URL for redis-py, and the key prefix.

    The URL's query may hold ``prefix`` (default ``activejob``; several apps share one
    Redis by using different prefixes), ``keep_finished`` (how long finished jobs are
    kept: ``7d``, ``12h``, ``30m`` or seconds; default 7 days; see
    :mod:`activejob.storage.options`) and
    ``reconnect_timeout`` (seconds an operation keeps retrying a lost connection before
    it raises, default 1), ``handoff`` (``0`` turns off handing new jobs straight to
    idle workers, see :mod:`.handoff`; default on); every other parameter is redis-py's own
    (``socket_timeout``, ``max_connections``, ...).
    """

    url: str
    prefix: str = DEFAULT_PREFIX
    reconnect_timeout: float = 1.0
    keep_finished: float = DEFAULT_KEEP_FINISHED
    handoff: bool = True

    @classmethod
    def from_url(cls, url: str) -> RedisSettings:
        """Split our parameters from redis-py's in ``url``."""
        options = UrlOptions.parse(url)
        prefix = options.take("prefix", str, DEFAULT_PREFIX)
        if not prefix:
            raise ConfigurationError(f"empty prefix in redis URL {mask_password(url)}")
        reconnect_timeout = options.duration("reconnect_timeout", 1.0)
        keep_finished = options.duration("keep_finished", DEFAULT_KEEP_FINISHED)
        handoff = options.boolean("handoff", True)
        # What is left is redis-py's (socket_timeout, max_connections, ...).
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        query = urlencode(options.query)
        plain = urlunsplit((scheme, parts.netloc, parts.path, query, parts.fragment))
        return cls(plain, prefix, reconnect_timeout, keep_finished, handoff)

    @property
    def caps_connections(self) -> bool:
        """Whether the URL sets ``max_connections`` (a cap every connection must obey)."""
        return "max_connections" in parse_qs(urlsplit(self.url).query)

    @property
    def key_prefix(self) -> str:
        """The prefix every key starts with, separator included (``"activejob:"``)."""
        return self.prefix + ":"

    def client(self, **overrides: Any) -> redis.Redis:
        """A thread-safe client (a connection pool) with redis-py's retries off."""
        options: dict[str, Any] = {
            "decode_responses": True,
            # A field that is not UTF-8 (written by another client) must cost only its
            # job, not make every reply that carries it raise.
            "encoding_errors": "replace",
            "retry": Retry(NoBackoff(), 0),
            "socket_connect_timeout": 5.0,
            "health_check_interval": 30,
        }
        options.update(overrides)
        try:
            client = redis.Redis.from_url(self.url, **options)
            # redis-py hands unknown URL options to each connection, which refuses them
            # only when it is made, in whatever thread first connects: make one now
            # (no socket is opened), so a typo is a configuration error here.
            pool = client.connection_pool
            pool.connection_class(**pool.connection_kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"bad redis URL {mask_password(self.url)}: {_reason(exc)}"
            ) from exc
        return client


def _reason(exc: Exception) -> str:
    """What is wrong with a URL, in the words of its query string."""
    unknown = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
    if unknown:
        return (
            f"unknown option {unknown[1]!r} (activejob's are prefix, keep_finished, "
            "reconnect_timeout and handoff; the others are redis-py's, such as socket_timeout)"
        )
    return str(exc)


def is_config_error(exc: BaseException) -> bool:
    """Whether the server refused us for a reason no retry can fix (a database index
    it does not have, a wrong password)."""
    text = str(exc)
    return isinstance(exc, AuthenticationError) or "DB index is out of range" in text


class Backoff:
    """Exponential backoff with full jitter: 20 ms, 40 ms, ... capped at 1 s.

    Example::

        backoff = Backoff()
        time.sleep(backoff.next())
    """

    def __init__(self, first: float = 0.02, cap: float = 1.0) -> None:
        self.first = first
        self.cap = cap
        self.attempt = 0

    def next(self) -> float:
        """Seconds to wait before the next attempt."""
        ceiling = min(self.cap, self.first * 2**self.attempt)
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)


def retrying(
    operation: Callable[[], T],
    budget: float,
    on_error: Callable[[BaseException], None] | None = None,
) -> T:
    """Run ``operation``, again after each transient error, for up to ``budget`` seconds.

    ``operation`` must be safe to run again after a failure whose effect is unknown;
    ``on_error`` is told of each failure first (to mark state that must be reconciled).
    The last error is raised when the budget is spent.
    """
    deadline = time.monotonic() + budget
    backoff: Backoff | None = None  # made on the first error: most calls succeed at once
    while True:
        try:
            return operation()
        except TRANSIENT as exc:
            if is_config_error(exc):
                raise
            if on_error is not None:
                on_error(exc)
            backoff = backoff or Backoff()
            pause = backoff.next()
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)  # sleep-ok: backoff before reconnecting to Redis

"""Storage calls that survive a lost connection: retry with backoff.

A storage method raises :class:`~activejob.storage.base.StorageUnavailable` when
its server goes away (``pg_terminate_backend``, a restart); the next call
reconnects. The worker's threads wrap every call in :func:`persist`, which
retries the same call with exponential backoff until it succeeds, the worker
gives up (``cancel`` is set) or a deadline passes. Waits are on ``cancel``, so a
stopping worker is never stuck in a backoff.

Errors that repeating cannot fix are raised at once: :data:`FATAL` (a missing
schema, a database or setting the server refuses, a value the storage refuses).
Any other exception is retried too, since a driver may raise its own types for a
lost connection.

Example::

    jobs = persist(lambda: storage.claim(worker_id, queues, 10), "claim", stopping)
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from activejob.errors import ConfigurationError
from activejob.storage.base import SchemaError

__all__ = ["FATAL", "GaveUp", "persist"]

logger = logging.getLogger("activejob.worker")

T = TypeVar("T")

FATAL: tuple[type[Exception], ...] = (SchemaError, ConfigurationError, ValueError, TypeError)
"""Errors a retry cannot fix (a missing schema; a database that does not exist)."""

FIRST_DELAY = 0.05
MAX_DELAY = 5.0


class GaveUp(Exception):
    """The call kept failing until it was cancelled or its deadline passed."""


def persist(
    call: Callable[[], T],
    what: str,
    cancel: threading.Event,
    *,
    deadline: float | None = None,
) -> T:
    """Return ``call()``, retrying failures with backoff.

    Raises :class:`GaveUp` (chaining the last error) when a call fails after
    ``cancel`` is set or ``time.monotonic()`` has passed ``deadline``, or when
    ``cancel`` is set during the backoff after a failure: once cancelled, ``call``
    is not made again.
    """
    delay = FIRST_DELAY
    failures = 0
    while True:
        try:
            value = call()
        except FATAL:
            raise
        except Exception as exc:
            failures += 1
            remaining = None if deadline is None else deadline - time.monotonic()
            if cancel.is_set() or (remaining is not None and remaining <= 0):
                raise GaveUp(f"{what} failed {failures} time(s): {exc}") from exc
            wait = delay * random.uniform(0.8, 1.2)
            if remaining is not None:
                wait = min(wait, remaining)
            logger.warning(
                "%s failed (%s: %s); retrying in %.2fs", what, type(exc).__name__, exc, wait
            )
            if cancel.wait(wait):
                # Cancelled during the backoff: calling again could block (a wait
                # that now succeeds) long after the caller asked to stop.
                raise GaveUp(f"{what} failed {failures} time(s): {exc}") from exc
            delay = min(delay * 2, MAX_DELAY)
            continue
        if failures:
            logger.info("%s succeeded again after %d failure(s)", what, failures)
        return value

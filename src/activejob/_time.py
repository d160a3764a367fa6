"""The clock, in one place so tests can replace it."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def now() -> float:
    """Seconds since the epoch; the only clock activejob reads."""
    return time.time()


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.fromtimestamp(now(), tz=timezone.utc)


def to_timestamp(moment: datetime) -> float:
    """Epoch seconds for ``moment``; a naive datetime is taken as local time."""
    return moment.timestamp()


def from_timestamp(seconds: float) -> datetime:
    """An aware UTC datetime for epoch ``seconds``."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)

"""The clock, in one place so tests can replace it."""

from __future__ import annotations

import time
from datetime import datetime, timezone

_UTC = timezone.utc


def now() -> float:
    """Seconds since the epoch; the only clock activejob reads."""
    return time.time()


_system_now = now
"""The real clock: :func:`now` as this module defines it, before any test replaces it."""


def utcnow() -> datetime:
    """The current time as an aware UTC datetime, from :func:`now`."""
    clock = now
    if clock is _system_now:  # the same reading as now(), with no float in between
        return datetime.now(_UTC)
    return datetime.fromtimestamp(clock(), tz=_UTC)


def to_timestamp(moment: datetime) -> float:
    """Epoch seconds for ``moment``; a naive datetime is taken as local time."""
    return moment.timestamp()


def from_timestamp(seconds: float) -> datetime:
    """An aware UTC datetime for epoch ``seconds``."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


_seconds_text: dict[int, str] = {}
"""``YYYY-MM-DDTHH:MM:SS`` of whole UTC seconds, as :func:`iso_time` has needed them."""


def iso_time(moment: datetime) -> str:
    """``moment.isoformat()``, in two thirds of its time for the UTC times of our payloads.

    Every payload carries a time (``enqueued_at``) and a busy worker logs one for
    every job (``enqueued at ...``). The ``datetime`` method formats each of its
    seven fields and the offset anew; here the text of the whole second is made
    once and the microseconds added to it. Any other time (naive, another zone, a
    subclass) gets ``isoformat()`` itself.

    Example::

        iso_time(datetime(2026, 12, 3, 8, 40, 1, 5, tzinfo=timezone.utc))
        # '2026-12-03T08:40:01.000005+00:00'
    """
    if moment.tzinfo is not _UTC or type(moment) is not datetime:
        return moment.isoformat()
    second = moment.toordinal() * 86400 + moment.hour * 3600 + moment.minute * 60 + moment.second
    head = _seconds_text.get(second)
    if head is None:
        if len(_seconds_text) >= 4096:  # a bound: a worker's jobs come from a few seconds at a time
            _seconds_text.clear()
        head = _seconds_text[second] = moment.replace(microsecond=0).isoformat()[:-6]
    micro = moment.microsecond
    # printf-style on purpose: an f-string's ``:06d`` parses its spec on every call.
    return "%s.%06d+00:00" % (head, micro) if micro else head + "+00:00"  # noqa: UP031

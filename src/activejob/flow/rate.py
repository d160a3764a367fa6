"""Rate limits: at most ``n`` jobs with a key **start** per period, across all workers.

::

    from datetime import timedelta
    from activejob import Job, rate_limit

    @rate_limit(10, per=timedelta(seconds=1), key="smtp")     # the API's burst limit
    @rate_limit(300, per=timedelta(minutes=1), key="smtp")    # and its minute quota
    class SendJob(Job):
        def perform(self, to: str) -> None: ...

The window is a **sliding log**: a job may start when fewer than ``n`` jobs of the
same ``(key, per)`` started in the ``per`` seconds before now, so *any* window of
length ``per`` holds at most ``n`` starts (a fixed window lets ``2n`` through across
its boundary, a token bucket lets a burst follow a full window). The SQL logs round
start times up to ``per / 64`` (:data:`GRAIN`), so a log is at most 65 slots
whatever ``n``; a held job may wait up to ``per / 64`` longer than an exact log
would make it, never less. Every start counts: a retry, and a rerun after a
worker crash, start again and take a place in the window.

``key`` is a string, a callable given ``perform``'s arguments (computed once, at
enqueue, and stored with the job), or ``None`` for the class's name. Jobs of
different classes with the same key and period share one limit. Decorators stack:
a job starts only when every one of its limits has room.

The store enforces it in the claim's own transaction (SQL) or script (Redis). A job
over its limit stays ``ready``; a worker that finds only such jobs sleeps until
the earliest window frees. ``async:`` keeps the log in memory, ``test:`` records
the limits (``RecordedJob.rate_limits``), ``inline:`` runs every job at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from activejob import _time, events
from activejob.errors import ConfigurationError

if TYPE_CHECKING:
    from activejob.job.core import JobCore

__all__ = [
    "GRAIN",
    "KEY_LIMIT",
    "RateLimit",
    "RateWindow",
    "RateWindows",
    "StoredLimit",
    "decode_limits",
    "encode_limits",
    "rate_limit",
    "rate_limits_of",
    "report_held",
]

J = TypeVar("J", bound=type)

KEY_LIMIT = 255
"""Characters a resolved key may have (it is stored and indexed)."""


@dataclass(frozen=True)
class RateLimit:
    """One ``@rate_limit`` declaration of a job class."""

    limit: int
    """Starts allowed per window."""
    per: float
    """The window's length in seconds."""
    key: str | Callable[..., Any] | None = None
    """A string, a callable of ``perform``'s arguments, or ``None`` (the class name)."""

    def resolve(self, job: JobCore) -> StoredLimit:
        """This limit for one job: its key computed from the job's arguments."""
        key = self.key
        if key is None:
            text = type(job).job_class_name
        elif isinstance(key, str):
            text = key
        else:
            try:
                value = key(*job.arguments, **job.kwargs)
            except Exception as exc:
                raise ConfigurationError(
                    f"{type(job).__qualname__}: the rate_limit key callable raised "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise ConfigurationError(
                    f"{type(job).__qualname__}: the rate_limit key callable must return "
                    f"a str or an int, got {type(value).__name__}"
                )
            text = str(value)
        if not text or len(text) > KEY_LIMIT:
            raise ConfigurationError(
                f"{type(job).__qualname__}: a rate_limit key must have 1 to {KEY_LIMIT} "
                f"characters, got {len(text)}"
            )
        return StoredLimit(text, self.limit, self.per)


@dataclass(frozen=True, order=True)
class StoredLimit:
    """A resolved limit, as stored with a job: ``key``, ``limit`` starts per ``per`` s."""

    key: str
    limit: int
    per: float

    @property
    def bucket(self) -> tuple[str, float]:
        """What jobs share a log by: the key and the period."""
        return (self.key, self.per)


def rate_limit(
    n: int, per: timedelta | float, key: str | Callable[..., Any] | None = None
) -> Callable[[J], J]:
    """Let at most ``n`` jobs of this class (with the same key) start per ``per``.

    ``per`` is a ``timedelta`` or seconds. Stack the decorator for several limits
    (per second and per minute); each must have room for a job to start.

    Example::

        @rate_limit(100, per=timedelta(minutes=1), key="smtp")
        class MailJob(Job): ...

        @rate_limit(5, per=60, key=lambda account_id, **_: account_id)
        class SyncJob(Job): ...
    """
    seconds = per.total_seconds() if isinstance(per, timedelta) else per
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigurationError(f"rate_limit(n) needs an int n >= 1, got {n!r}")
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise ConfigurationError(f"rate_limit(per=) needs a period > 0, got {per!r}")
    if key is not None and not isinstance(key, str) and not callable(key):
        raise ConfigurationError(f"rate_limit(key=) takes a str or a callable, got {key!r}")
    if isinstance(key, str) and not 0 < len(key) <= KEY_LIMIT:
        raise ConfigurationError(f"a rate_limit key must have 1 to {KEY_LIMIT} characters")
    declared = RateLimit(n, float(seconds), key)

    def decorate(cls: J) -> J:
        own = tuple(getattr(cls, "rate_limits", ()))
        cls.rate_limits = (*own, declared)  # type: ignore[attr-defined]
        return cls

    return decorate


def rate_limits_of(job: JobCore) -> list[StoredLimit]:
    """The limits ``job`` carries, keys resolved; one per ``(key, per)``, the
    smallest ``n`` kept when two declarations share one."""
    declared: Sequence[RateLimit] = getattr(type(job), "rate_limits", ())
    if not declared:
        return []
    chosen: dict[tuple[str, float], StoredLimit] = {}
    for limit in declared:
        stored = limit.resolve(job)
        known = chosen.get(stored.bucket)
        if known is None or stored.limit < known.limit:
            chosen[stored.bucket] = stored
    return sorted(chosen.values())


def encode_limits(limits: Iterable[StoredLimit]) -> str | None:
    """The stored form: a JSON array of ``{"key", "limit", "per"}``, ``None`` if empty."""
    rows = [{"key": s.key, "limit": s.limit, "per": s.per} for s in limits]
    return json.dumps(rows) if rows else None


def decode_limits(text: str | None) -> list[StoredLimit]:
    """The mirror of :func:`encode_limits`; a malformed value reads as no limits."""
    if not text:
        return []
    try:
        rows = json.loads(text)
        return [StoredLimit(str(r["key"]), int(r["limit"]), float(r["per"])) for r in rows]
    except (ValueError, TypeError, KeyError):
        return []


def report_held(
    job_id: str, limits: Sequence[StoredLimit], until: float | None, worker_id: str
) -> None:
    """Emit ``rate_limited`` for a ready job a claim held back (the one emitter)."""
    events.emit(
        "rate_limited",
        job_id=job_id,
        keys=[s.key for s in limits],
        until=None if until is None else _time.from_timestamp(until),
        worker_id=worker_id,
    )


GRAIN = 64
"""Slots per window: a log stores its starts rounded *up* to ``per / GRAIN``, as
``[time, count]`` pairs, so it never holds more than ``GRAIN + 1`` of them however
large ``n`` is. Rounding up only makes a start leave the window later: the limit
still holds exactly, and a held job waits at most ``per / GRAIN`` longer."""


@dataclass
class RateWindow:
    """The sliding log of one ``(key, per)``: ``[time, count]`` slots, oldest first."""

    per: float
    slots: list[list[float]] = field(default_factory=list)
    limit: int | None = None
    """The smallest ``n`` a job asked of this window in the current admission."""

    @property
    def count(self) -> int:
        """Starts in the log (call :meth:`trim` first for those in the window)."""
        return int(sum(slot[1] for slot in self.slots))

    def trim(self, now: float) -> None:
        """Forget starts that left the window (those at or before ``now - per``)."""
        cutoff = now - self.per
        drop = 0
        while drop < len(self.slots) and self.slots[drop][0] <= cutoff:
            drop += 1
        if drop:
            del self.slots[:drop]

    def has_room(self, limit: int) -> bool:
        """Whether one more start fits (call :meth:`trim` first)."""
        self.limit = limit if self.limit is None else min(self.limit, limit)
        return self.count < limit

    def record(self, now: float) -> None:
        """Log a start at ``now`` (rounded up to its slot)."""
        grain = self.per / GRAIN
        at = math.ceil(now / grain) * grain
        if self.slots and self.slots[-1][0] >= at:
            self.slots[-1][1] += 1
        else:
            self.slots.append([at, 1])

    def full_until(self) -> float | None:
        """When the next start fits, if the window is full now: when enough of the
        oldest starts have left it."""
        if self.limit is None:
            return None
        excess = self.count - self.limit  # starts that must leave, less one
        if excess < 0:
            return None
        left = 0.0
        for at, count in self.slots:
            left += count
            if left > excess:
                return at + self.per
        return None


class RateWindows:
    """Admission of jobs against sliding logs: what the SQL claim and ``async:`` share.

    Example::

        windows = RateWindows({("smtp", 60.0): RateWindow(60.0, [[t1, 1], [t2, 3]])}, now)
        if windows.admit(limits):
            ...  # start it; windows.changed() are the logs to save
    """

    def __init__(self, windows: dict[tuple[str, float], RateWindow], now: float) -> None:
        self.windows = windows
        self.now = now
        self.touched: set[tuple[str, float]] = set()
        for window in windows.values():
            window.trim(now)

    def window(self, bucket: tuple[str, float]) -> RateWindow:
        """The log of ``bucket`` (an empty one if none is known)."""
        found = self.windows.get(bucket)
        if found is None:
            found = self.windows[bucket] = RateWindow(bucket[1])
        return found

    def admit(self, limits: Sequence[StoredLimit]) -> bool:
        """Record a start now if every limit has room; returns whether it did."""
        fits = True
        for limit in limits:
            self.touched.add(limit.bucket)
            fits = self.window(limit.bucket).has_room(limit.limit) and fits
        if fits:
            for limit in limits:
                self.window(limit.bucket).record(self.now)
        return fits

    def held_until(self, limits: Sequence[StoredLimit]) -> float | None:
        """When a job with these limits could start at the earliest, if not now."""
        times = [self.window(s.bucket).full_until() for s in limits]
        found = [t for t in times if t is not None]
        return max(found) if found else None

    def changed(self) -> list[dict[str, Any]]:
        """The touched logs, as rows to store: key, per, starts (JSON), full_until."""
        rows = []
        for key, per in sorted(self.touched):
            window = self.windows[(key, per)]
            rows.append(
                {
                    "key": key,
                    "per": per,
                    "starts": json.dumps(window.slots),
                    "full_until": window.full_until(),
                }
            )
        return rows

"""What an operator browses: a page of jobs found on an index, and the activity
of the last hour, in bounded work however many jobs a store holds.

:meth:`Storage.browse <activejob.storage.base.Storage.browse>` answers a
:class:`JobQuery` with a :class:`JobPage`: jobs newest first, older than a cursor
(keyset pagination, never ``OFFSET``). The state and queue pick an index range; the
other filters (class, error class, creation time, text in the payload) are applied
to the newest :attr:`JobQuery.scan` jobs of that range, so no page reads more than
that many rows. A window with too few matches ends the page early and gives the
cursor of where it stopped: the next page searches on from there.

Example::

    page = storage.browse(JobQuery(state=JobState.FAILED, error_class="app.Timeout"))
    more = storage.browse(dataclasses.replace(query, before=page.next_before))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # base.py builds Storage on BrowsingStorage: no import of it here
    from activejob.storage.base import JobInfo, JobState

__all__ = [
    "COUNT_CAP",
    "HOLDERS_SHOWN",
    "KEYS_SHOWN",
    "SCAN_LIMIT",
    "Activity",
    "BlockedKey",
    "BrowsingStorage",
    "JobPage",
    "JobQuery",
    "check_query",
    "page_from",
    "parse_time",
    "window_size",
]

COUNT_CAP = 10_000
"""Jobs counted per queue and state before a count stops ("10,000+"): counting
reads an index entry per job, so a cap keeps the overview fast on any store."""
SCAN_LIMIT = 10_000
"""Jobs one page reads at most to apply the filters no index serves."""
KEYS_SHOWN = 50
"""Concurrency keys :meth:`BrowsingStorage.blocked_keys` reports at most."""
HOLDERS_SHOWN = 10
"""Slot holders named per key (the count of taken slots is complete)."""
_AGO = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class JobQuery:
    """Which jobs a page shows. ``before`` is the cursor, a storage id (``None``:
    the newest). ``text`` matches jobs whose JSON payload contains it, exactly
    (case-sensitive). ``created_after``/``created_before`` are epoch seconds.

    Example::

        JobQuery(state=JobState.FAILED, queue_name="mailers", limit=50)
    """

    state: JobState | None = None
    queue_name: str | None = None
    job_class: str | None = None
    error_class: str | None = None
    created_after: float | None = None
    created_before: float | None = None
    text: str | None = None
    before: Any = None
    limit: int = 50
    scan: int = SCAN_LIMIT

    @property
    def searches(self) -> bool:
        """Whether a filter outside the index applies (so a window may end a page)."""
        return any(
            value is not None
            for value in (
                self.job_class,
                self.error_class,
                self.created_after,
                self.created_before,
                self.text,
            )
        )


@dataclass
class JobPage:
    """One page of :meth:`Storage.browse`. ``next_before`` is the cursor of the next
    (older) page, ``None`` at the end. ``window_full`` says the page stopped because
    its window of :attr:`JobQuery.scan` jobs ran out, not because it found
    ``limit`` jobs: older matches may exist past ``next_before``."""

    jobs: list[JobInfo]
    next_before: Any = None
    window_full: bool = False


@dataclass
class Activity:
    """Jobs finished in each minute since ``since``, oldest minute first: all of
    them, and those that failed (``None`` where the store cannot tell)."""

    since: datetime
    minutes: int
    finished: list[int] = field(default_factory=list)
    failed: list[int] | None = None


@dataclass
class BlockedKey:
    """A concurrency key with blocked jobs (flow: concurrency): how many wait for it
    (``capped``: a lower bound, counted up to :data:`COUNT_CAP`), its slots
    (``limit``, ``None`` when no waiting job says it), how many are ``taken`` now,
    and the ``job_id`` of up to :data:`HOLDERS_SHOWN` jobs that hold them."""

    key: str
    waiting: int
    capped: bool = False
    limit: int | None = None
    taken: int = 0
    holders: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, for ``--json``."""
        return {
            "key": self.key,
            "waiting": self.waiting,
            "capped": self.capped,
            "limit": self.limit,
            "taken": self.taken,
            "holders": list(self.holders),
        }


class BrowsingStorage:
    """The browsing half of :class:`~activejob.storage.base.Storage`: the public
    methods check their arguments, a backend fills ``_browse`` and ``_activity``."""

    def browse(self, query: JobQuery) -> JobPage:
        """A page of the jobs ``query`` picks, newest first (see the module docstring).

        Example::

            page = storage.browse(JobQuery(state=JobState.FAILED))
        """
        check_query(query)
        return self._browse(query)

    def activity(self, minutes: int = 60) -> Activity:
        """Jobs finished in each of the last ``minutes`` minutes, by state, read on
        the finished-jobs index."""
        from activejob import _time

        if not 1 <= minutes <= 24 * 60:
            raise ValueError(f"minutes must be between 1 and 1440, got {minutes}")
        now = _time.now()
        since = (int(now) // 60 + 1 - minutes) * 60  # whole minutes, the current one last
        return self._activity(float(since), minutes)

    def blocked_keys(self, limit: int = KEYS_SHOWN) -> list[BlockedKey]:
        """The concurrency keys that blocked jobs wait for, by key, at most ``limit``
        of them: each read on the blocked jobs' index and the key's slots, never a
        scan of the jobs (flow: concurrency).

        Example::

            for key in storage.blocked_keys():
                print(key.key, key.waiting, f"{key.taken}/{key.limit}")
        """
        if not 1 <= limit <= 1000:
            raise ValueError(f"limit must be between 1 and 1000, got {limit}")
        return self._blocked_keys(limit)

    def run_now(self, job_id: str) -> bool:
        """Make the scheduled job ``job_id`` ready now (an operator's "run now");
        false if no job with that id is scheduled.

        Example::

            storage.run_now("0b6c2f...")
        """
        if not isinstance(job_id, str) or not job_id:
            raise ValueError(f"job_id must be a non-empty string, got {job_id!r}")
        from activejob import events

        count = self._run_now(job_id)
        if count:
            events.emit("jobs_run_now", count=count, job_id=job_id)
        return bool(count)

    def _run_now(self, job_id: str) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not implement run_now()")

    def _browse(self, query: JobQuery) -> JobPage:
        raise NotImplementedError(f"{type(self).__name__} does not implement browse()")

    def _blocked_keys(self, limit: int) -> list[BlockedKey]:
        raise NotImplementedError(f"{type(self).__name__} does not implement blocked_keys()")

    def _activity(self, since: float, minutes: int) -> Activity:
        raise NotImplementedError(f"{type(self).__name__} does not implement activity()")


def activity_from(since: float, minutes: int, rows: Any) -> Activity:
    """An :class:`Activity` from ``(minute index, state, count)`` rows."""
    from activejob import _time

    finished, failed = [0] * minutes, [0] * minutes
    for minute, state, count in rows:
        index = int(minute)
        if 0 <= index < minutes:
            finished[index] += int(count)
            if state == "failed":
                failed[index] += int(count)
    return Activity(_time.from_timestamp(since), minutes, finished, failed)


def key_limit(concurrency: Any, key: str) -> int | None:
    """The slots of ``key`` in a job's stored limits (their JSON), or ``None``."""
    from activejob.storage.concurrency import slots_from_json

    for slot in slots_from_json(concurrency):
        if slot.key == key:
            return slot.limit
    return None


def window_size(query: JobQuery) -> int:
    """Rows a page reads: the page and one more, or the whole window when filters
    outside the index apply."""
    return query.scan if query.searches else query.limit + 1


def page_from(jobs: list[JobInfo], lowest: Any, scanned: int, query: JobQuery) -> JobPage:
    """The page of up to ``limit + 1`` matching ``jobs`` (newest first) found in a
    window of ``scanned`` rows whose lowest id is ``lowest``."""
    if len(jobs) > query.limit:
        return JobPage(jobs[: query.limit], next_before=jobs[query.limit - 1].id)
    if query.searches and scanned >= query.scan and lowest is not None:
        return JobPage(jobs, next_before=lowest, window_full=True)
    return JobPage(jobs)


def parse_time(text: str, now: float | None = None) -> float:
    """Epoch seconds from ``90m``/``2h``/``3d`` (that long ago) or an ISO date or
    time (UTC unless it carries an offset); ``ValueError`` says what is accepted."""
    text = text.strip()
    ago = _AGO.match(text)
    if ago:
        seconds = int(ago.group(1)) * _UNITS[ago.group(2)]
        from activejob import _time

        return (_time.now() if now is None else now) - seconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"bad time {text!r}: give 90m, 2h, 3d (ago) or an ISO date or time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def check_query(query: JobQuery) -> None:
    """Refuse a query no store could answer sensibly, with the field that is wrong."""
    from activejob.storage.base import JobState

    if query.limit < 1:
        raise ValueError(f"limit must be >= 1, got {query.limit}")
    if query.scan < 1:
        raise ValueError(f"scan must be >= 1, got {query.scan}")
    if query.state is not None:
        JobState(query.state)
    for name in ("queue_name", "job_class", "error_class", "text"):
        value = getattr(query, name)
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(f"{name} must be a non-empty string or None, got {value!r}")

"""Browsing a Redis store: pages of jobs on the listing indexes, the oldest ready
job of each queue, and the jobs finished per minute.

Every read is on a sorted set: a page merges the ``idx:<state>:<queue>`` sets newest
first below the cursor (``browse.lua``, at most :attr:`JobQuery.scan` members read);
the oldest ready job is the first member of each ``ready:<queue>:<priority>`` set;
the jobs finished per minute are ``ZCOUNT`` ranges of ``finished``. Counts are
exact (``ZCARD``), so nothing here is capped.

Example::

    page = browse(storage, JobQuery(state=JobState.FAILED))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from activejob import _time
from activejob.storage.base import JobState, QueueInfo
from activejob.storage.browse import Activity, JobPage, JobQuery, page_from, window_size
from activejob.storage.redis import records

if TYPE_CHECKING:
    from activejob.storage.redis.storage import RedisStorage

__all__ = ["browse", "finished_activity", "with_oldest_ready"]

PROMOTE_LIMIT = 1000
"""Due scheduled jobs promoted per call (as the other scripts do)."""


def _stamp(value: float | None) -> str:
    return "" if value is None else records.stamp(value)


def browse(storage: RedisStorage, query: JobQuery) -> JobPage:
    """One page of :meth:`Storage.browse` from ``browse.lua``."""
    if query.queue_name is not None:
        queues = [query.queue_name]
    else:
        known = storage._call(lambda: storage.client.smembers(storage.key("queues")))
        queues = sorted(cast("set[str]", known))
    states = list(JobState) if query.state is None else [JobState(query.state)]
    indexes = [f"idx:{state.value}:{queue}" for queue in queues for state in states]
    if not indexes:
        return JobPage([])
    before = "" if query.before is None else f"{int(query.before):016d}"
    reply = storage._script(
        "browse",
        PROMOTE_LIMIT,
        before,
        window_size(query),
        query.limit + 1,
        query.job_class or "",
        query.error_class or "",
        _stamp(query.created_after),
        _stamp(query.created_before),
        query.text or "",
        *indexes,
    )
    lowest = int(reply[0]) if reply[0] else None
    jobs = [records.job_info(flat) for flat in reply[2:]]
    return page_from(jobs, lowest, int(reply[1]), query)


def with_oldest_ready(storage: RedisStorage, queues: list[QueueInfo]) -> list[QueueInfo]:
    """``queues`` with ``oldest_ready_at`` set: the first member of each of a queue's
    ready sets (one per priority), read in two pipelined round trips."""
    pending = [q for q in queues if q.counts.get(JobState.READY)]
    if not pending:
        return queues

    def priorities(pipe: Any) -> None:
        for queue in pending:
            pipe.zrange(storage.key("prios", queue.name), 0, -1)

    by_queue = storage._pipeline(priorities)

    def firsts(pipe: Any) -> None:
        for queue, prios in zip(pending, by_queue, strict=True):
            for prio in prios:
                pipe.zrange(storage.key("ready", queue.name, str(prio)), 0, 0, withscores=True)

    replies = iter(storage._pipeline(firsts))
    for queue, prios in zip(pending, by_queue, strict=True):
        scores = [float(score) for _ in prios for _, score in next(replies)]
        if scores:
            queue.oldest_ready_at = _time.from_timestamp(min(scores))
    return queues


def finished_activity(storage: RedisStorage, since: float, minutes: int) -> Activity:
    """Jobs finished per minute since ``since``: ``ZCOUNT`` ranges of ``finished``,
    which keeps no state, so ``failed`` is ``None``."""

    def counts(pipe: Any) -> None:
        for minute in range(minutes):
            start = since + 60 * minute
            pipe.zcount(storage.key("finished"), start, f"({start + 60}")

    per_minute = [int(n) for n in storage._pipeline(counts)]
    return Activity(_time.from_timestamp(since), minutes, per_minute, None)

"""Browsing a Redis store: pages of jobs on the listing indexes, the oldest ready
job of each queue, and the jobs finished per minute.

Every read is on a sorted set: a page merges the ``idx:<state>:<queue>`` sets newest
first below the cursor (``browse.lua``, at most :attr:`JobQuery.scan` members read);
the oldest ready job is the first member of each ``ready:<queue>:<priority>`` set;
the jobs finished (and failed) per minute are ``ZCOUNT`` ranges of ``finished`` and
``failed_at``. Counts are exact (``ZCARD``), so nothing here is capped.

Example::

    page = browse(storage, JobQuery(state=JobState.FAILED))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from activejob import _time
from activejob.storage.base import JobState, QueueInfo
from activejob.storage.browse import (
    HOLDERS_SHOWN,
    Activity,
    BlockedKey,
    JobPage,
    JobQuery,
    key_limit,
    page_from,
    window_size,
)
from activejob.storage.redis import records

if TYPE_CHECKING:
    from activejob.storage.redis.storage import RedisStorage

__all__ = ["blocked_keys", "browse", "finished_activity", "with_oldest_ready"]

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
    """Jobs finished per minute since ``since``, and how many of them failed: ``ZCOUNT``
    ranges of ``finished`` and of ``failed_at`` (the failed ones, by when they failed),
    in one pipelined round trip."""

    def counts(pipe: Any) -> None:
        for name in ("finished", "failed_at"):
            for minute in range(minutes):
                start = since + 60 * minute
                pipe.zcount(storage.key(name), start, f"({start + 60}")

    replies = [int(n) for n in storage._pipeline(counts)]
    finished, failed = replies[:minutes], replies[minutes:]
    return Activity(_time.from_timestamp(since), minutes, finished, failed)


def blocked_keys(storage: RedisStorage, limit: int) -> list[BlockedKey]:
    """The keys of ``cc:waiting`` (those with blocked jobs), by key: ``ZCARD`` of each
    key's ``blocked:<key>`` set (exact), its live slots in ``cc:<key>``, and the limits
    of its first waiting job, in pipelined round trips of ``limit`` keys (flow:
    concurrency). The key names are one ``SMEMBERS``; a limited job waiting for its
    ``run_at`` joins its key's set once due."""
    members = storage._call(lambda: storage.client.smembers(storage.key("cc:waiting")))
    names = sorted(cast("set[str]", members))
    now = _time.now()
    found: list[tuple[str, int, list[str], int, list[str]]] = []
    for start in range(0, len(names), limit):  # a chunk at a time: stop at `limit` keys
        chunk = names[start : start + limit]

        def sizes(pipe: Any, chunk: list[str] = chunk) -> None:
            for name in chunk:
                pipe.zcard(storage.key("blocked", name))
                pipe.zrangebyscore(storage.key("cc", name), f"({now}", "+inf", 0, HOLDERS_SHOWN)
                pipe.zcount(storage.key("cc", name), f"({now}", "+inf")
                pipe.zrange(storage.key("blocked", name), 0, 0)

        replies = iter(storage._pipeline(sizes))
        for name in chunk:
            waiting, holders, taken, first = (next(replies) for _ in range(4))
            if int(waiting) and len(found) < limit:  # a key emptied by a discard may linger
                found.append((name, int(waiting), holders, int(taken), first))
        if len(found) == limit:
            break

    def details(pipe: Any) -> None:
        for _, _, holders, _, first in found:
            for sid in holders:
                pipe.hget(storage.key("job", sid), "job_id")
            if first:  # gone since: its limit is unknown
                pipe.hget(storage.key("job", first[0]), "concurrency")

    answers = iter(storage._pipeline(details))
    keys = []
    for name, waiting, holders, taken, first in found:
        ids = [str(job_id) for job_id in [next(answers) for _ in holders] if job_id]
        limits = next(answers) if first else None
        keys.append(BlockedKey(name, waiting, False, key_limit(limits, name), taken, ids))
    return keys

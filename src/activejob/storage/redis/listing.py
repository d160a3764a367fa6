"""Reading a Redis store for ``Storage.list``, ``queues`` and ``workers``.

A listing reads the ``idx:<state>:<queue>`` indexes (``list.lua``), or the jobs by id
(``get.lua``, and ``HSCAN`` of the id index for a prefix); the workers are the
``workers`` sorted set with each one's hash and in-progress set.

Example::

    jobs(storage, JobFilter(states=[JobState.FAILED]))
    workers(storage)   # [{"id": ..., "running": [...], ...}]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from activejob import _time
from activejob.storage.base import JobFilter, JobInfo, JobState, QueueInfo
from activejob.storage.redis import records
from activejob.storage.redis.browse import with_oldest_ready

if TYPE_CHECKING:
    from activejob.storage.redis.storage import RedisStorage

__all__ = ["jobs", "queues", "workers"]

PROMOTE_LIMIT = 1000
"""Due scheduled jobs promoted per call (as the other scripts do)."""


def jobs(storage: RedisStorage, where: JobFilter) -> list[JobInfo]:
    """The jobs matching ``where``, newest first (``Storage.list``)."""
    if where.job_id_prefix is not None:
        ids = _ids_with_prefix(storage, where.job_id_prefix, where.job_ids)
        return _list_by_ids(storage, dataclasses.replace(where, job_ids=ids))
    if where.job_ids is not None:
        return _list_by_ids(storage, where)
    if where.queue_name is not None:
        queues = [where.queue_name]
    else:
        known = storage._call(lambda: storage.client.smembers(storage.key("queues")))
        queues = sorted(cast("set[str]", known))
    states = [JobState(s) for s in where.states] if where.states is not None else list(JobState)
    indexes = [f"idx:{state.value}:{queue}" for queue in queues for state in states]
    if not indexes or where.limit == 0:
        return []
    limit = -1 if where.limit is None else where.limit
    found = storage._script(
        "list", PROMOTE_LIMIT, where.offset, limit, where.job_class or "", *indexes
    )
    return [records.job_info(flat) for flat in found]


def _ids_with_prefix(storage: RedisStorage, prefix: str, among: Sequence[str] | None) -> list[str]:
    """The job ids starting with ``prefix`` (of ``among``, if given). HSCAN walks the
    id index a slice at a time, so a large store is never blocked by one call."""
    if among is not None:
        return [job_id for job_id in among if job_id.startswith(prefix)]
    pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"

    def scan() -> list[str]:
        pairs = storage.client.hscan_iter(storage.key("ids"), match=pattern, count=1000)
        return [cast("str", job_id) for job_id, _ in pairs]

    return storage._call(scan)


def _list_by_ids(storage: RedisStorage, where: JobFilter) -> list[JobInfo]:
    ids = list(dict.fromkeys(where.job_ids or ()))
    found = storage._script("get", PROMOTE_LIMIT, *ids) if ids else []
    states = None if where.states is None else {JobState(s) for s in where.states}
    matching = [
        info
        for info in (records.job_info(flat) for flat in found if flat)
        if (states is None or info.state in states)
        and (where.queue_name is None or info.queue_name == where.queue_name)
        and (where.job_class is None or info.job_class == where.job_class)
    ]
    matching.sort(key=lambda info: int(info.id), reverse=True)
    end = None if where.limit is None else where.offset + where.limit
    return matching[where.offset : end]


def workers(storage: RedisStorage) -> list[dict[str, Any]]:
    """Live workers, most recent heartbeat first: id, started and heartbeat times,
    the job ids they run, and the info of their last heartbeat."""
    beats = cast(
        "list[tuple[str, float]]",
        storage._call(
            lambda: storage.client.zrevrange(storage.key("workers"), 0, -1, withscores=True)
        ),
    )

    def build_workers(pipe: Any) -> None:
        for worker_id, _ in beats:
            pipe.hgetall(storage.key("worker", worker_id))
            pipe.smembers(storage.key("running", worker_id))

    replies = storage._pipeline(build_workers) if beats else []
    running = [sorted(replies[i + 1]) for i in range(0, len(replies), 2)]

    def build_jobs(pipe: Any) -> None:
        for sids in running:
            for s in sids:
                pipe.hget(storage.key("job", s), "job_id")

    job_ids = iter(storage._pipeline(build_jobs) if any(running) else [])
    out: list[dict[str, Any]] = []
    for (worker_id, beat), fields, sids in zip(beats, replies[::2], running, strict=True):
        entry = records.worker_info(fields.get("info"))
        started = fields.get("started_at", beat)
        entry.update(
            id=worker_id,
            started_at=_time.from_timestamp(float(started)),
            heartbeat_at=_time.from_timestamp(float(beat)),
            running=[j for j in (next(job_ids) for _ in sids) if j],
        )
        out.append(entry)
    return out


def queues(storage: RedisStorage) -> list[QueueInfo]:
    """Every queue with jobs, or paused, by name, with its non-zero counts by state."""
    states = list(JobState)
    reply = storage._script("queues", PROMOTE_LIMIT, *(s.value for s in states))
    width = 2 + len(states)
    out = []
    for i in range(0, len(reply), width):
        pairs = zip(states, reply[i + 2 : i + width], strict=True)
        counts = {state: int(n) for state, n in pairs if int(n)}
        paused = bool(int(reply[i + 1]))
        if paused or counts:
            out.append(QueueInfo(reply[i], paused, counts))
    return with_oldest_ready(storage, out)

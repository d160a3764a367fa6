"""Recurring tasks in Redis: their definitions, pauses, and each run stored once.

Definitions, creation, declaration, last-run and resume times are hashes under
``<prefix>recurring:``; a run is enqueued by ``recurring_enqueue.lua``, which stores
``<prefix>recurring:run:<key>:<run_at>`` with the job so that a run is enqueued once
however many schedulers race.

Example::

    declare(storage, [spec])
    tasks(storage)   # [RecurringTaskInfo(...)]
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from activejob import _time
from activejob.storage.base import Duplicate, NewJob
from activejob.storage.concurrency import slots_to_json
from activejob.storage.recurring import RecurringTaskInfo, RecurringTaskSpec
from activejob.storage.redis import records
from activejob.storage.redis.unique import unique_fields, unique_push_reply

if TYPE_CHECKING:
    from activejob.storage.redis.storage import RedisStorage

__all__ = ["declare", "enqueue", "set_paused", "tasks"]


def declare(storage: RedisStorage, tasks: Sequence[RecurringTaskSpec]) -> None:
    """Store the definitions of ``tasks``, in one MULTI/EXEC."""
    now = records.stamp(_time.now())

    def build(pipe: Any) -> None:
        for task in tasks:
            definition = dataclasses.asdict(task)
            del definition["key"]
            pipe.hset(storage.key("recurring:tasks"), task.key, json.dumps(definition))
            pipe.hsetnx(storage.key("recurring:created"), task.key, now)
            pipe.hset(storage.key("recurring:declared"), task.key, now)

    storage._transaction(build)


def tasks(storage: RedisStorage) -> list[RecurringTaskInfo]:
    """Every declared task, by key."""

    def build(pipe: Any) -> None:
        for name in ("tasks", "created", "declared", "last", "resumed"):
            pipe.hgetall(storage.key(f"recurring:{name}"))
        pipe.smembers(storage.key("recurring:paused"))

    defined, created, declared, last, resumed, paused = storage._pipeline(build)
    orphan_before = _time.now() - storage.recurring_orphan_after
    out = []
    for key in sorted(defined):
        definition = json.loads(defined[key])
        declared_at = float(declared.get(key, 0))
        out.append(
            RecurringTaskInfo(
                key=key,
                job_class=definition["job_class"],
                schedule=definition["schedule"],
                timezone=definition["timezone"],
                queue_name=definition["queue_name"],
                priority=int(definition["priority"]),
                payload=json.loads(definition["payload"]),
                paused=key in paused,
                created_at=_time.from_timestamp(float(created.get(key, declared_at))),
                declared_at=_time.from_timestamp(declared_at),
                last_run_at=_maybe_time(last.get(key)),
                resumed_at=_maybe_time(resumed.get(key)),
                orphaned=declared_at < orphan_before,
            )
        )
    return out


def set_paused(storage: RedisStorage, key: str, paused: bool) -> bool:
    """Pause or resume task ``key``; ``False`` if no such task is declared."""
    exists = storage._call(lambda: storage.client.hexists(storage.key("recurring:tasks"), key))
    if not exists:
        return False
    now = records.stamp(_time.now())

    def build(pipe: Any) -> None:
        if paused:
            pipe.sadd(storage.key("recurring:paused"), key)
        else:
            pipe.srem(storage.key("recurring:paused"), key)
            pipe.hset(storage.key("recurring:resumed"), key, now)

    storage._transaction(build)
    return True


def enqueue(storage: RedisStorage, key: str, run_at: int, job: NewJob) -> Any | None:
    """Enqueue ``job`` as the run of task ``key`` at ``run_at``, once: its sid, a
    :class:`Duplicate`, or ``None`` if that run was enqueued already."""
    # Kept as long as finished jobs (and at least a day): long past the catch-up
    # window, which starts at the task's last run.
    ttl = max(int(storage.keep_finished), 86400)
    job_run_at = "" if job.run_at is None else records.stamp(job.run_at)
    args: list[str | int] = [key, run_at, ttl, job.job_id, job.job_class]
    args += [job.queue_name, job.priority]
    args += [job_run_at, job.payload, job.rate_limits or ""]  # flow: rate limits
    args.append(slots_to_json(job.concurrency) or "")  # flow: concurrency
    args += unique_fields(job)  # flow: unique
    # A retried call after a lost reply finds the run stored and returns None:
    # the job was stored once, by the first call.
    reply = storage._script("recurring_enqueue", *args)
    if not reply:
        return None
    [stored] = unique_push_reply(reply)
    if job.concurrency and not isinstance(stored, Duplicate):  # flow: concurrency
        storage._announce_blocked([job], [stored])
    return stored


def _maybe_time(stamp: str | None) -> datetime | None:
    return None if stamp is None else _time.from_timestamp(float(stamp))

"""Unique jobs on Redis (flow: unique): the arguments and reply of ``push_unique.lua``
(and of ``recurring_enqueue.lua``, whose reply has the same shape).

The script decides, atomically, whether the job holding a key still holds it (the
rule of :func:`activejob.flow.unique.holds_key`) and stores the new job, or names
the holder, or moves the new payload into a waiting holder (``replace``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from activejob.flow.unique import lock_of
from activejob.storage.base import Duplicate, NewJob
from activejob.storage.concurrency import slots_to_json
from activejob.storage.redis import records

__all__ = ["unique_fields", "unique_push_args", "unique_push_reply"]


def unique_push_args(prefix: str, jobs: Sequence[NewJob], now: str) -> list[str]:
    """``push_unique``'s ARGV for ``jobs`` (plain ones among them have an empty lock)."""
    args = [prefix, now, "0"]
    for job in jobs:
        run_at = "" if job.run_at is None else records.stamp(job.run_at)
        args += (job.job_id, job.job_class, job.queue_name, str(job.priority), run_at)
        args.append(job.payload)
        args += unique_fields(job)
        args.append(job.rate_limits or "")  # flow: rate limits
        args.append(slots_to_json(job.concurrency) or "")  # flow: concurrency
    return args


def unique_fields(job: NewJob) -> list[str]:
    """A job's lock, key, until, within and on_conflict as the scripts take them
    (five empty strings for a job that is not unique)."""
    if job.unique_key is None:
        return ["", "", "", "", ""]
    within = "" if job.unique_within is None else repr(float(job.unique_within))
    return [
        lock_of(job.unique_key),
        job.unique_key,
        job.unique_until,
        within,
        job.unique_on_conflict,
    ]


def unique_push_reply(reply: Sequence[Any]) -> list[Any]:
    """Storage ids and :class:`Duplicate` values from ``push_unique``'s reply."""
    out: list[Any] = []
    for i in range(0, len(reply), 3):
        kind, sid, holder_job_id = (_text(v) for v in reply[i : i + 3])
        if kind == "stored":
            out.append(int(sid))
        else:
            out.append(Duplicate(holder_job_id, int(sid), replaced=kind == "replaced"))
    return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

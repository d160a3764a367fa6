"""The checks :class:`~activejob.storage.base.Storage` (``Storage`` below) runs on
what it is given before a backend's hook sees it, so every backend refuses the
same values with the same message.

Example::

    check_name("queue_name", "")  # ValueError: queue_name must be a non-empty string, got ''
"""

from __future__ import annotations

from activejob.storage.concurrency import ConcurrencySlot
from activejob.storage.records import RESULT_STATES, JobFilter, JobState, NewJob, Result
from activejob.storage.return_value import check_return_value

__all__ = ["check_filter", "check_name", "check_new_job", "check_result"]


def check_name(what: str, value: object) -> None:
    """Refuse ``value`` (``ValueError``) unless it is a non-empty string; ``what`` names it."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")


def check_new_job(job: NewJob) -> None:
    """Refuse a job :meth:`Storage.push` cannot store (``TypeError``, ``ValueError``)."""
    if not isinstance(job, NewJob):
        raise TypeError(f"push() takes NewJob values, got {type(job).__name__}")
    check_name("job_id", job.job_id)
    check_name("job_class", job.job_class)
    check_name("queue_name", job.queue_name)
    if not isinstance(job.priority, int) or isinstance(job.priority, bool):
        raise ValueError(f"job {job.job_id}: priority must be an int, got {job.priority!r}")
    if not isinstance(job.payload, str) or not job.payload.strip().startswith("{"):
        raise ValueError(f"job {job.job_id}: payload must be a JSON object, encoded")
    if job.run_at is not None and not isinstance(job.run_at, (int, float)):
        raise ValueError(f"job {job.job_id}: run_at must be epoch seconds, got {job.run_at!r}")
    # flow: unique
    if job.unique_key is not None:
        check_name("unique_key", job.unique_key)
        if job.unique_until not in ("started", "finished"):
            raise ValueError(f"job {job.job_id}: unique_until must be 'started' or 'finished'")
        if job.unique_within is not None and not job.unique_within > 0:
            raise ValueError(f"job {job.job_id}: unique_within must be > 0 seconds")
    # flow: concurrency
    if isinstance(job.concurrency, (str, bytes)) or not all(
        isinstance(slot, ConcurrencySlot) for slot in job.concurrency
    ):
        raise TypeError(f"job {job.job_id}: concurrency takes ConcurrencySlot values")
    if len({slot.key for slot in job.concurrency}) != len(job.concurrency):
        raise ValueError(f"job {job.job_id}: a concurrency key is given twice")


def check_result(result: Result) -> None:
    """Refuse a result :meth:`Storage.complete` cannot apply (``ValueError``)."""
    state = JobState(result.state)
    if state not in RESULT_STATES:
        raise ValueError(
            f"a result cannot move job {result.id!r} to {state.value!r} "
            f"(allowed: {', '.join(sorted(s.value for s in RESULT_STATES))})"
        )
    if state is JobState.SCHEDULED and (result.payload is None or result.run_at is None):
        raise ValueError(f"a scheduled result for job {result.id!r} needs payload and run_at")
    if result.return_value is not None:
        check_return_value(result.id, state, result.return_value)


def check_filter(where: JobFilter) -> None:
    """Refuse a filter :meth:`Storage.list` and the others cannot read."""
    if isinstance(where.states, str) or isinstance(where.job_ids, str):
        raise TypeError("JobFilter.states and .job_ids take lists, not a single string")
    if where.limit is not None and where.limit < 0:
        raise ValueError(f"limit must be >= 0 or None, got {where.limit}")
    if where.offset < 0:
        raise ValueError(f"offset must be >= 0, got {where.offset}")
    if where.job_id_prefix is not None:
        check_name("job_id_prefix", where.job_id_prefix)
    for state in where.states or ():
        JobState(state)

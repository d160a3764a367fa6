"""Rows to records and back, for every SQL dialect: a :class:`NewJob` or
:class:`Result` as query parameters, a claimed or listed row as a
:class:`ClaimedJob` or :class:`JobInfo`. A corrupt column never raises here: the
claimed job carries the defect, the listed one shows it as its error
(``storage/decode.py``).

Example::

    storage._run(conn, "insert_job", {**job_row(new_job), "now": _time.now()})
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from activejob import _time
from activejob.errors import DeserializationError, shorten
from activejob.flow.unique import holds_key
from activejob.storage.base import ClaimedJob, ErrorInfo, JobInfo, JobState, NewJob, Result
from activejob.storage.decode import Defects, load_object, payload_dict, sound_text

__all__ = [
    "claim_order",
    "claimed_job",
    "error_params",
    "job_info",
    "job_row",
    "json_object",
    "plain_success",
    "result_row",
]


def job_row(job: NewJob) -> dict[str, Any]:
    """A job as the parameters of ``insert_job`` (one object of ``insert_jobs``)."""
    return {
        "job_id": job.job_id,
        "job_class": job.job_class,
        "queue_name": job.queue_name,
        "priority": job.priority,
        "payload": job.payload,
        "run_at": None if job.run_at is None else float(job.run_at),
        "rate_limits": job.rate_limits,  # flow: rate limits
    }


def error_params(error: ErrorInfo) -> dict[str, Any]:
    """An error as the ``error_class``, ``error_message``, ``error_traceback`` parameters."""
    return {
        "error_class": error.exception_class,
        "error_message": error.message,
        "error_traceback": error.traceback,
    }


def result_row(result: Result) -> dict[str, Any]:
    """A result as one object of the ``results`` parameter of ``complete_jobs``."""
    error = result.error
    return {
        "id": result.id,
        "state": JobState(result.state).value,
        "payload": result.payload,
        "run_at": None if result.run_at is None else float(result.run_at),
        "queue_name": result.queue_name,
        "priority": result.priority,
        "attempts": result.attempts,
        "error_class": None if error is None else error.exception_class,
        "error_message": None if error is None else error.message,
        "error_traceback": None if error is None else error.traceback,
    }


def plain_success(result: Result) -> bool:
    """Whether ``result`` only makes its job succeeded: no payload, run time, queue,
    priority or error to store (its return value goes in its own statement)."""
    return (
        result.state == JobState.SUCCEEDED
        and result.error is None
        and result.payload is None
        and result.run_at is None
        and result.queue_name is None
        and result.priority is None
    )


def claim_order(row: Sequence[Any]) -> tuple[Any, ...]:
    """Priority, run-at, id; a corrupt priority or run-at sorts last instead of
    making the sort raise."""
    priority, run_at = row[5], row[6]
    return (
        priority if type(priority) is int else float("inf"),
        run_at if type(run_at) in (int, float) else float("inf"),
        row[0],
    )


def claimed_job(row: Sequence[Any]) -> ClaimedJob:
    """A claimed row; one with a corrupt column carries the defect, for the worker
    to fail that job alone."""
    id_, job_id, queue_name, payload, attempts, priority, _, job_class = row
    if (
        type(priority) is int
        and type(attempts) is int
        and type(payload) is str
        and type(queue_name) is str
        and type(job_id) is str
        and sound_text(payload)
    ):
        return ClaimedJob(id_, job_id, queue_name, payload, attempts, job_class=job_class)
    d = Defects()
    d.integer("priority", priority)
    return ClaimedJob(
        id_,
        d.text("job_id", job_id, str(job_id)),
        d.text("queue_name", queue_name, str(queue_name)),
        d.text("payload", payload, "{}"),
        d.integer("attempts", attempts, 1),
        job_class=job_class if isinstance(job_class, str) else None,
        defect=d.message,
    )


def job_info(row: Sequence[Any], now: float) -> JobInfo:
    """A row as a :class:`JobInfo`; a corrupt column is shown with a default and a
    :class:`~activejob.DeserializationError` as the error, never raised."""
    (id_, job_id, job_class, queue_name, priority, state, attempts, payload) = row[:8]
    created_at, run_at, started_at, finished_at, worker_id, heartbeat_at = row[8:14]
    error_class, error_message, error_traceback, crashes = row[14:18]
    return_value = row[18]  # results: return values (django.tasks)
    blocked_by = row[23] if len(row) > 23 else None  # flow: concurrency
    d = Defects()
    job_state = d.state(state)
    run_at_s = d.seconds("run_at", run_at, now)
    if job_state is JobState.SCHEDULED and run_at_s <= now:
        job_state = JobState.READY
    error = None
    if error_class is not None:
        error = ErrorInfo(str(error_class), str(error_message or ""), str(error_traceback or ""))
    info = JobInfo(
        id=id_,
        job_id=d.text("job_id", job_id),
        job_class=d.text("job_class", job_class),
        queue_name=d.text("queue_name", queue_name),
        priority=d.integer("priority", priority),
        state=job_state,
        attempts=d.integer("attempts", attempts),
        payload=payload_dict(payload),
        created_at=_time.from_timestamp(d.seconds("created_at", created_at, now)),
        run_at=_time.from_timestamp(run_at_s),
        started_at=d.maybe_time("started_at", started_at),
        finished_at=d.maybe_time("finished_at", finished_at),
        worker_id=worker_id,
        heartbeat_at=d.maybe_time("heartbeat_at", heartbeat_at),
        crashes=d.integer("crashes", crashes),
        return_value=return_value if isinstance(return_value, str) else None,
        blocked_by=None if blocked_by is None else str(blocked_by),
    )
    info.error = d.error(error)
    if len(row) > 19:  # flow: unique
        _unique_info(info, row[19:23], now)
    return info


def _unique_info(info: JobInfo, row: Sequence[Any], now: float) -> None:
    """Fill ``info``'s unique fields from the key, until, expiry and lock columns."""
    key, until, expires_at, lock = row
    if key is None:
        return
    expires = None if expires_at is None else float(expires_at)
    info.unique_key = str(key)
    info.unique_until = None if until is None else str(until)
    info.unique_expires_at = None if expires is None else _time.from_timestamp(expires)
    info.unique_held = lock is not None and holds_key(
        info.state.value, info.attempts, info.unique_until, expires, now
    )


def json_object(text: Any) -> dict[str, Any]:
    """A stored JSON object (a worker's info); anything else is kept, shortened,
    under ``"raw"``."""
    if text is None:
        return {}
    try:
        return load_object(text, "the stored worker info")
    except DeserializationError:
        return {"raw": shorten(str(text))}

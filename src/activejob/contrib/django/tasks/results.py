"""Django's ``TaskResult`` from our jobs: at enqueue, and from a stored job
(:class:`~activejob.storage.base.JobInfo`) for ``get_result``.

=====================  ==================================================
our state              ``TaskResultStatus``
=====================  ==================================================
scheduled, ready       ``READY`` (a scheduled job waits for ``run_after``)
running                ``RUNNING``
succeeded              ``SUCCESSFUL`` (``return_value`` is the kept value)
failed, discarded      ``FAILED``
=====================  ==================================================

``errors`` holds the job's last error (its exception class path and traceback):
activejob keeps one error per job. ``worker_ids`` has one entry per attempt (a
claim): the worker of the latest attempt, and empty strings for earlier ones,
whose workers are not kept. ``enqueued_at`` is the moment the job was enqueued,
``started_at`` and ``last_attempted_at`` the start of its latest attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from activejob.arguments import deserialize_arguments
from activejob.contrib.django.tasks import compat
from activejob.contrib.django.tasks.bridge import AsyncDjangoTaskJob, DjangoTaskJob, task_of
from activejob.errors import DeserializationError
from activejob.storage.base import JobInfo, JobState
from activejob.storage.return_value import decode_return_value

__all__ = ["BRIDGE_CLASSES", "enqueued_result", "stored_result"]

BRIDGE_CLASSES = frozenset({DjangoTaskJob.job_class_name, AsyncDjangoTaskJob.job_class_name})
"""The job classes a stored Django task is kept as."""

_STATUS = {
    JobState.SCHEDULED: "READY",
    JobState.READY: "READY",
    JobState.RUNNING: "RUNNING",
    JobState.SUCCEEDED: "SUCCESSFUL",
    JobState.FAILED: "FAILED",
    JobState.DISCARDED: "FAILED",
}


def enqueued_result(
    task: Any, job: DjangoTaskJob, args: list[Any], kwargs: dict[str, Any], alias: str
) -> Any:
    """The ``TaskResult`` of a task just enqueued as ``job``: ``READY``, never run."""
    return compat.TaskResult(
        task=task,
        id=job.job_id,
        status=compat.TaskResultStatus.READY,
        enqueued_at=job.enqueued_at,
        started_at=None,
        finished_at=None,
        last_attempted_at=None,
        args=args,
        kwargs=kwargs,
        backend=alias,
        errors=[],
        worker_ids=[],
    )


def stored_result(info: JobInfo) -> Any:
    """The ``TaskResult`` of a stored Django task (``info.job_class`` must be a bridge
    class); a payload that does not describe one raises ``DeserializationError``."""
    spec, args, kwargs = _arguments(info)
    task = task_of(spec)
    status = compat.TaskResultStatus(_STATUS[info.state])
    attempts = info.attempts
    workers = [""] * attempts
    if attempts and info.worker_id:
        workers[-1] = info.worker_id
    errors = []
    if info.error is not None:
        errors.append(
            compat.TaskError(
                exception_class_path=info.error.exception_class, traceback=info.error.traceback
            )
        )
    result = compat.TaskResult(
        task=task,
        id=info.job_id,
        status=status,
        enqueued_at=_enqueued_at(info),
        started_at=info.started_at if attempts else None,
        finished_at=info.finished_at,
        last_attempted_at=info.started_at if attempts else None,
        args=args,
        kwargs=kwargs,
        backend=spec["backend"],
        errors=errors,
        worker_ids=workers,
    )
    if info.state is JobState.SUCCEEDED and info.return_value is not None:
        object.__setattr__(result, "_return_value", decode_return_value(info.return_value))
    return result


def _arguments(info: JobInfo) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
    try:
        values, _ = deserialize_arguments(info.payload["arguments"], info.payload["kwargs"])
        spec, args, kwargs = values
    except (KeyError, TypeError, ValueError) as exc:
        raise DeserializationError(f"job {info.job_id} holds no Django task: {exc}") from exc
    if not (isinstance(spec, dict) and isinstance(args, list) and isinstance(kwargs, dict)):
        raise DeserializationError(f"job {info.job_id} holds no Django task")
    return spec, args, kwargs


def _enqueued_at(info: JobInfo) -> datetime:
    # The payload's own moment, to the microsecond (as the enqueue's TaskResult had it).
    text = info.payload.get("enqueued_at")
    if isinstance(text, str):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    return info.created_at

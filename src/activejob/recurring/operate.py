"""What an operator does to a stored recurring task, shared by ``activejob recurring``
and the dashboard: run one job of it now, and work out its next run.

Example::

    run = run_now(storage, "nightly-cleanup")   # None if no such task is stored
    print(run.job_id if run else "unknown task")
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from activejob import _time
from activejob.errors import ConfigurationError, DeserializationError
from activejob.recurring.schedule import parse_schedule
from activejob.storage.base import Duplicate, NewJob, Storage
from activejob.storage.recurring import RecurringTaskInfo

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["ManualRun", "find_task", "next_run", "run_now", "task_state"]


@dataclass(frozen=True)
class ManualRun:
    """The job :func:`run_now` enqueued for a task."""

    key: str
    job_id: str
    storage_id: Any
    job_class: str
    queue_name: str
    duplicate_of: str | None = None
    """The job holding the unique key, when nothing was stored (flow: unique);
    ``job_id`` is then that job's."""


def find_task(storage: Storage, key: str) -> RecurringTaskInfo | None:
    """The stored task ``key``, or ``None``."""
    return next((task for task in storage.recurring_tasks() if task.key == key), None)


def run_now(storage: Storage, key: str) -> ManualRun | None:
    """Enqueue one job of task ``key`` now, from its stored definition, whatever its
    schedule and paused or not; ``None`` when no such task is stored.

    The job gets a fresh ``job_id`` and ``metadata.recurring = {"key": key,
    "run_at": None}`` (a manual run, not one of the schedule's). When its class is
    registered in this process, the job passes the gates of ``perform_later`` (flow
    control: unique key, concurrency and rate limits); a held unique key stores
    nothing and the run names the holder in ``duplicate_of``. Without the class (a
    shell without the app's code) the stored payload is enqueued as it is."""
    task = find_task(storage, key)
    if task is None:
        return None
    payload = dict(task.payload)
    job_id = str(uuid.uuid4())
    payload["job_id"] = job_id
    payload["enqueued_at"] = _time.utcnow().isoformat()
    payload["metadata"] = {
        **(payload.get("metadata") or {}),
        "recurring": {"key": task.key, "run_at": None},
    }
    new = _flow_controlled(payload) or NewJob(
        job_id, task.job_class, task.queue_name, task.priority, json.dumps(payload)
    )
    [storage_id] = storage.push([new])
    if isinstance(storage_id, Duplicate):  # flow: unique
        return ManualRun(
            task.key,
            storage_id.job_id,
            storage_id.id,
            task.job_class,
            task.queue_name,
            duplicate_of=storage_id.job_id,
        )
    return ManualRun(task.key, job_id, storage_id, task.job_class, task.queue_name)


def _flow_controlled(payload: dict[str, Any]) -> NewJob | None:
    """The job as ``perform_later`` would store it (its flow-control fields set),
    or ``None`` when its class is not registered in this process."""
    from activejob.adapters.durable import new_job
    from activejob.job.core import JobCore

    try:
        job = JobCore.deserialize(payload)
    except DeserializationError:
        return None
    return new_job(cast("Job", job), None)


def task_state(task: RecurringTaskInfo) -> str:
    """``orphaned``, ``paused`` or ``active``."""
    if task.orphaned:
        return "orphaned"
    return "paused" if task.paused else "active"


def next_run(task: RecurringTaskInfo) -> datetime | None:
    """When the task's schedule fires next (``None`` for a schedule this version
    cannot read)."""
    try:
        schedule = parse_schedule(task.schedule, task.timezone)
    except ConfigurationError:
        return None
    return schedule.next_after(_time.from_timestamp(_time.now()))

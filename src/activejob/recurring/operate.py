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
from typing import Any

from activejob import _time
from activejob.errors import ConfigurationError
from activejob.recurring.schedule import parse_schedule
from activejob.storage.base import NewJob, Storage
from activejob.storage.recurring import RecurringTaskInfo

__all__ = ["ManualRun", "find_task", "next_run", "run_now", "task_state"]


@dataclass(frozen=True)
class ManualRun:
    """The job :func:`run_now` enqueued for a task."""

    key: str
    job_id: str
    storage_id: Any
    job_class: str
    queue_name: str


def find_task(storage: Storage, key: str) -> RecurringTaskInfo | None:
    """The stored task ``key``, or ``None``."""
    return next((task for task in storage.recurring_tasks() if task.key == key), None)


def run_now(storage: Storage, key: str) -> ManualRun | None:
    """Enqueue one job of task ``key`` now, from its stored definition, whatever its
    schedule and paused or not; ``None`` when no such task is stored.

    The job gets a fresh ``job_id`` and ``metadata.recurring = {"key": key,
    "run_at": None}`` (a manual run, not one of the schedule's)."""
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
    new = NewJob(job_id, task.job_class, task.queue_name, task.priority, json.dumps(payload))
    [storage_id] = storage.push([new])
    return ManualRun(task.key, job_id, storage_id, task.job_class, task.queue_name)


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

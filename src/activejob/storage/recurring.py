"""What a durable store keeps of recurring tasks (see :mod:`activejob.recurring`).

A scheduler *declares* its tasks (:class:`RecurringTaskSpec`) when it starts and
again every minute or so; operators read them back as :class:`RecurringTaskInfo`,
with the paused flag they set and the time of the last run. Each run of a task
is stored at most once: :meth:`~activejob.storage.base.Storage.enqueue_recurring`
records ``(task_key, run_at)`` under a unique key in the same atomic step as the
job, so any number of schedulers may race for it.

Example::

    storage.declare_recurring([RecurringTaskSpec("nightly", "app.CleanupJob",
                               "0 3 * * *", "UTC", "default", 0, payload)])
    storage.enqueue_recurring("nightly", 1767236400, new_job)   # the id, or None
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["ORPHAN_AFTER", "RecurringTaskInfo", "RecurringTaskSpec"]

ORPHAN_AFTER = 300.0
"""Seconds after its last declaration by a scheduler that a stored task is listed as
orphaned: no running scheduler has it in its code or file any more."""


@dataclass(frozen=True)
class RecurringTaskSpec:
    """A recurring task as a scheduler declares it to the store.

    ``payload`` is the JSON payload of a job of the task (a fresh ``job_id`` is
    given to each run), so ``activejob recurring run KEY`` can enqueue one from
    any process, without the task's code.
    """

    key: str
    job_class: str
    schedule: str
    timezone: str
    queue_name: str
    priority: int
    payload: str


@dataclass
class RecurringTaskInfo:
    """A stored recurring task, with what operators and schedulers changed.

    ``orphaned`` is true when no scheduler has declared the task for
    :data:`ORPHAN_AFTER` seconds (it was removed from the code or the file):
    nothing schedules it any more.
    """

    key: str
    job_class: str
    schedule: str
    timezone: str
    queue_name: str
    priority: int
    payload: dict[str, Any]
    paused: bool
    created_at: datetime
    declared_at: datetime
    last_run_at: datetime | None = None
    """The latest run time enqueued (by any scheduler), not when it was enqueued."""
    resumed_at: datetime | None = None
    orphaned: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, times in ISO 8601.

        Example::

            json.dumps([task.to_dict() for task in storage.recurring_tasks()])
        """
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            data[name] = value.isoformat() if isinstance(value, datetime) else value
        return data

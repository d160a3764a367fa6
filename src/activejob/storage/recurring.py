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

import builtins
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from activejob import events
from activejob.storage.checks import check_name, check_new_job

if TYPE_CHECKING:
    from activejob.storage.records import NewJob

__all__ = ["ORPHAN_AFTER", "RecurringStorage", "RecurringTaskInfo", "RecurringTaskSpec"]

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


class RecurringStorage(ABC):
    """The recurring-task half of :class:`~activejob.storage.base.Storage` (a mixin of
    it): the public methods with their checks and events, and the hooks a backend
    implements."""

    recurring_orphan_after: float = ORPHAN_AFTER
    """Seconds without a declaration after which a stored recurring task is orphaned."""

    def declare_recurring(self, tasks: Sequence[RecurringTaskSpec]) -> None:
        """Store or refresh the recurring tasks a scheduler runs, in one atomic step.

        A new task is stored unpaused; a known one takes the new definition and
        keeps its paused flag and last run. Every task given counts as declared now.
        """
        for task in tasks:
            _check_task(task)
        if len({task.key for task in tasks}) != len(tasks):
            raise ValueError("declare_recurring() takes each task key once")
        if tasks:
            self._declare_recurring(tasks)

    def recurring_tasks(self) -> builtins.list[RecurringTaskInfo]:
        """Every stored recurring task, by key, orphaned ones included."""
        return self._recurring_tasks()

    def pause_recurring(self, key: str) -> bool:
        """Stop every scheduler enqueueing runs of ``key`` (from their next tick);
        returns whether such a task is stored."""
        check_name("task key", key)
        found = self._set_recurring_paused(key, True)
        if found:
            events.emit("recurring_paused", task_key=key)
        return found

    def resume_recurring(self, key: str) -> bool:
        """Let schedulers enqueue runs of ``key`` again, from the next run on (runs
        that fell while it was paused are not caught up); returns whether it is stored."""
        check_name("task key", key)
        found = self._set_recurring_paused(key, False)
        if found:
            events.emit("recurring_resumed", task_key=key)
        return found

    def enqueue_recurring(self, key: str, run_at: int, job: NewJob) -> Any | None:
        """Store ``job`` as the run of recurring task ``key`` due at ``run_at`` (whole
        epoch seconds), unless that run is stored already; returns the job's storage
        id, or ``None`` for a run another scheduler enqueued first.

        Atomic and race-free: ``(key, run_at)`` is inserted under a unique key in the
        same transaction (or script) as the job, never checked first and inserted
        after. The task's last run time moves forward to ``run_at``.

        The job passes the gates :meth:`~activejob.storage.base.Storage.push` applies
        (flow control): a limited job waits ``blocked`` for its slots (or is
        discarded), a rate-limited one starts as its window frees, and a unique job
        whose key another job holds is not stored: the run still counts as enqueued
        and a :class:`~activejob.storage.base.Duplicate` naming the holder is
        returned instead of an id.

        Example::

            storage.enqueue_recurring("nightly", 1767236400, new_job)
        """
        check_name("task key", key)
        if not isinstance(run_at, int) or isinstance(run_at, bool):
            raise ValueError(f"run_at must be whole epoch seconds (an int), got {run_at!r}")
        check_new_job(job)
        return self._enqueue_recurring(key, run_at, job)

    # -- what a backend implements -------------------------------------------------------

    @abstractmethod
    def _declare_recurring(self, tasks: Sequence[RecurringTaskSpec]) -> None: ...

    @abstractmethod
    def _recurring_tasks(self) -> builtins.list[RecurringTaskInfo]: ...

    @abstractmethod
    def _set_recurring_paused(self, key: str, paused: bool) -> bool: ...

    @abstractmethod
    def _enqueue_recurring(self, key: str, run_at: int, job: NewJob) -> Any | None:
        """Insert ``(key, run_at)`` and, only if it was new, ``job`` as ``push`` would
        (a :class:`~activejob.storage.base.Duplicate` if its unique key is held):
        atomically."""


def _check_task(task: RecurringTaskSpec) -> None:
    if not isinstance(task, RecurringTaskSpec):
        raise TypeError(f"declare_recurring() takes RecurringTaskSpec values, got {task!r}")
    for name in ("key", "job_class", "schedule", "timezone", "queue_name"):
        check_name(f"recurring task {name}", getattr(task, name))
    if not isinstance(task.priority, int) or isinstance(task.priority, bool):
        raise ValueError(f"recurring task {task.key}: priority must be an int")
    if not isinstance(task.payload, str) or not task.payload.strip().startswith("{"):
        raise ValueError(f"recurring task {task.key}: payload must be a JSON object, encoded")

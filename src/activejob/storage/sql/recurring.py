"""Recurring tasks on the SQL storages: the declared tasks, their pause flag, and
when each last ran (``activejob_recurring_tasks``). Enqueueing a run is a push
(``SQLStorage._enqueue_recurring``, with the gates of push).

Example::

    storage.pause_recurring("nightly")  # True: the task is stored (and now paused)
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from activejob import _time
from activejob.storage.decode import payload_dict
from activejob.storage.recurring import RecurringTaskInfo, RecurringTaskSpec
from activejob.storage.sql.connection import SQLConnection

__all__ = ["RecurringOps"]


class RecurringOps(SQLConnection):
    """The recurring-task part of :class:`~activejob.storage.sql.base.SQLStorage`."""

    recurring_orphan_after: float
    """Seconds after which an undeclared task is shown orphaned (``RecurringStorage``)."""

    def _declare_recurring(self, tasks: Sequence[RecurringTaskSpec]) -> None:
        now = _time.now()
        with self._transaction() as conn:
            for task in tasks:
                self._run(conn, "declare_recurring_task", {**task_row(task), "now": now})

    def _recurring_tasks(self) -> builtins.list[RecurringTaskInfo]:
        now = _time.now()
        with self._connection() as conn:
            rows = self._run(conn, "list_recurring_tasks").fetchall()
        return [task_info(row, now - self.recurring_orphan_after) for row in rows]

    def _set_recurring_paused(self, key: str, paused: bool) -> bool:
        params = {"task_key": key, "paused": paused, "now": _time.now()}
        with self._transaction() as conn:
            self._run(conn, "set_recurring_paused", params)
            # Not the UPDATE's row count: MySQL counts only rows it changed.
            return bool(self._run(conn, "recurring_task_exists", params).fetchone()[0])


def task_row(task: RecurringTaskSpec) -> dict[str, Any]:
    """A task as the parameters of ``declare_recurring_task``."""
    return {
        "task_key": task.key,
        "job_class": task.job_class,
        "schedule": task.schedule,
        "timezone": task.timezone,
        "queue_name": task.queue_name,
        "priority": task.priority,
        "payload": task.payload,
    }


def task_info(row: Sequence[Any], orphan_before: float) -> RecurringTaskInfo:
    """A row of ``list_recurring_tasks``; declared before ``orphan_before``: orphaned."""
    key, job_class, schedule, timezone, queue_name, priority, payload, paused = row[:8]
    created_at, declared_at, last_run_at, resumed_at = row[8:12]
    return RecurringTaskInfo(
        key=str(key),
        job_class=str(job_class),
        schedule=str(schedule),
        timezone=str(timezone),
        queue_name=str(queue_name),
        priority=int(priority),
        payload=payload_dict(payload),
        paused=bool(paused),
        created_at=_time.from_timestamp(float(created_at)),
        declared_at=_time.from_timestamp(float(declared_at)),
        last_run_at=None if last_run_at is None else _time.from_timestamp(float(last_run_at)),
        resumed_at=None if resumed_at is None else _time.from_timestamp(float(resumed_at)),
        orphaned=float(declared_at) < orphan_before,
    )

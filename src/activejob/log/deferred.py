"""The per-job ``Performing`` and ``Performed`` lines, captured as values.

Two lines a job, at the default level: what they cost the job's thread is what
logging at INFO costs a busy worker. So a line is first a :class:`JobLine`: a
tuple of the values it shows, read from the job and the event when the event
happens (the job's fields as they are then: ``executions``, ``enqueued_at``,
``queue_name``, the stored arguments), and nothing else. Its text, its
structured fields and its record are made from those values
(:meth:`JobLine.record`).

:func:`emit` makes the record at once, for every handler and filter, unless the
only one that would see it takes lines to write later
(:func:`~activejob.log.records.deferring_handler`: the worker's log sink); then
the line is handed over as it is, and its text is made on the sink's writer
thread, off the job's thread. Either way the record is the same.

Example::

    emit(performed(logging.INFO, event))
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from activejob._time import iso_time
from activejob.log.records import (
    current_task_name,
    deferring_handler,
    logger,
    make_record,
    quick_record,
)
from activejob.log.text import arguments_text, wire_arguments
from activejob.log.text import encode as _encode

if TYPE_CHECKING:
    from activejob import events

_TASK_NAMES = sys.version_info >= (3, 12)
"""Whether records carry ``taskName`` (Python 3.12+)."""
_now = time.time
_current_thread = threading.current_thread


def emit(line: JobLine) -> None:
    """Hand ``line`` to the logger's handlers: as a record, or as it is to the one
    handler that would see it, when that handler makes the record itself.

    Example::

        emit(performing(logging.INFO, event))
    """
    put = deferring_handler(line[0])
    if put is not None:
        put(line)
    elif logging.getLogRecordFactory() is logging.LogRecord:
        logger.handle(line.record())
    else:  # the application's factory (one adding trace ids, say) makes it, here and now
        logger.handle(make_record(line[0], line.text(), None, line.fields()))


class JobLine(tuple[Any, ...]):
    """A line about one job, as the values captured when its event happened:
    ``(level, created, thread, task name, adapter name, job class, job id,
    provider job id, queue name, priority, executions, scheduled_at, ...)`` and
    those of its kind after them. A tuple, because making one is the cost the
    job's thread pays for its line.

    Example::

        line = performing(logging.INFO, event)
        line.record().getMessage()   # 'Performing myapp.ReportJob (Job ID: ...) ...'
    """

    __slots__ = ()

    name = "activejob"
    """The logger the record goes to."""
    event = ""
    """The event the line is about."""

    if TYPE_CHECKING:
        level: int
        """The line's level."""
        created: float
        """When the line was logged (``time.time()``)."""
        thread: threading.Thread
        """The thread that logged it."""
    else:  # read by the writer twice a job: no Python frame for them
        level = property(itemgetter(0), doc="The line's level.")
        created = property(itemgetter(1), doc="When the line was logged (``time.time()``).")
        thread = property(itemgetter(2), doc="The thread that logged it.")

    def text(self) -> str:
        """The message of the line."""
        raise NotImplementedError

    def fields(self) -> dict[str, Any]:
        """The structured fields of the record (``docs/observability.md``), as
        :func:`~activejob.log.records.fields` gives them for the event."""
        extra: dict[str, Any] = {"activejob_event": self.event}
        if self[4] is not None:
            extra["adapter"] = self[4]
        scheduled_at = self[11]
        extra.update(
            job_class=self[5],
            job_id=self[6],
            provider_job_id=self[7],
            queue_name=self[8],
            priority=self[9],
            executions=self[10],
            scheduled_at=iso_time(scheduled_at) if scheduled_at else None,
        )
        return extra

    def record(self) -> logging.LogRecord:
        """The record of this line, as logging's own record factory would have
        made it when the line was logged (same time, thread and task)."""
        thread = self[2]
        return quick_record(
            self[0],
            self.text(),
            None,
            self.fields(),
            created=self[1],
            thread=(thread.ident, thread.name),
            task_name=self[3],
        )


class Performing(JobLine):
    """``Performing <class> (Job ID: <id>) from <adapter>(<queue>)[ enqueued at
    <time>][ with arguments: ...]`` (``perform_start``); after the common values,
    ``enqueued_at`` and the stored arguments.

    Example::

        emit(performing(logging.INFO, event))
    """

    __slots__ = ()
    event = "perform_start"

    def text(self) -> str:
        """``Performing ...``."""
        adapter, enqueued_at, wire = self[4], self[12], self[13]
        where = f"queue {self[8]}" if adapter is None else f"{adapter}({self[8]})"
        enqueued = f" enqueued at {iso_time(enqueued_at)}" if enqueued_at else ""
        if wire is not None and wire[0] and not wire[1]:  # arguments_text's usual case
            shown = f" with arguments: {_encode(wire[0])[1:-1]}"
        else:
            shown = arguments_text(wire)
        return f"Performing {self[5]} (Job ID: {self[6]}) from {where}{enqueued}{shown}"

    def fields(self) -> dict[str, Any]:
        """The fields, and the arguments (``job_arguments``, ``job_kwargs``) when shown."""
        extra = super().fields()
        wire = self[13]
        if wire is not None:
            extra.update(job_arguments=wire[0], job_kwargs=wire[1])
        return extra


def performing(level: int, event: events.Event) -> Performing:
    """The ``Performing`` line of a ``perform_start`` event.

    Example::

        emit(performing(logging.INFO, event))
    """
    job = event.job
    assert job is not None, "perform_start events carry a job"
    adapter = event.adapter
    # One tuple, built in one go: this is what the job's thread pays for its line.
    # The arguments are the stored ones, never the job's own objects (see
    # wire_arguments): what the job does to its arguments cannot change the line.
    return Performing(
        (
            level,
            _now(),
            _current_thread(),
            current_task_name() if _TASK_NAMES else None,
            None if adapter is None else (adapter.scheme or type(adapter).__name__),
            job.job_class_name,
            job.job_id,
            job.provider_job_id,
            job.queue_name,
            job.priority,
            job.executions,
            job.scheduled_at,
            job.enqueued_at,
            wire_arguments(job),
        )
    )


class Performed(JobLine):
    """``Performed <class> (Job ID: <id>) from <adapter>(<queue>) in <ms>ms[, halted
    by a before_perform callback]`` (a ``perform`` event without an exception);
    after the common values, the duration, whether a callback halted it, and the
    outcome.

    Example::

        emit(performed(logging.INFO, event))
    """

    __slots__ = ()
    event = "perform"

    def text(self) -> str:
        """``Performed ...``."""
        adapter = self[4]
        where = f"queue {self[8]}" if adapter is None else f"{adapter}({self[8]})"
        halted = ", halted by a before_perform callback" if self[13] else ""
        took = (self[12] or 0.0) * 1000  # ms(), inlined
        return f"Performed {self[5]} (Job ID: {self[6]}) from {where} in {took:.2f}ms{halted}"

    def fields(self) -> dict[str, Any]:
        """The fields, with ``duration_ms`` and ``outcome``."""
        extra = super().fields()
        if self[12] is not None:
            extra["duration_ms"] = round(self[12] * 1000, 3)
        if self[14] is not _NO_OUTCOME:
            extra["outcome"] = self[14]
        return extra


def performed(level: int, event: events.Event) -> Performed:
    """The ``Performed`` line of a ``perform`` event that raised nothing.

    Example::

        emit(performed(logging.INFO, event))
    """
    job = event.job
    assert job is not None, "perform events carry a job"
    adapter = event.adapter
    extra = event.extra
    return Performed(
        (
            level,
            _now(),
            _current_thread(),
            current_task_name() if _TASK_NAMES else None,
            None if adapter is None else (adapter.scheme or type(adapter).__name__),
            job.job_class_name,
            job.job_id,
            job.provider_job_id,
            job.queue_name,
            job.priority,
            job.executions,
            job.scheduled_at,
            event.duration,
            bool(extra.get("halted")),
            extra.get("outcome", _NO_OUTCOME),
        )
    )


_NO_OUTCOME: Any = object()
"""A ``perform`` event without an ``outcome`` (a record without the field)."""

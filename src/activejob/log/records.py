"""How our lines become ``logging`` records on the ``activejob`` logger.

:func:`log` makes the record a ``logger.log(...)`` call with ``extra`` would make
(with logging's own record factory, at about a third of the cost) and hands it
to the logger's handlers. Every record carries the structured fields of
``docs/observability.md`` (:func:`fields`).

Example::

    records.log(logging.INFO, event, "Performed ...")
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from activejob import events
from activejob.log.text import Wire, adapter_name, class_name

logger = logging.getLogger("activejob")
"""The logger every line goes to."""


def log(
    level: int,
    event: events.Event,
    text: str,
    *,
    exc_info: BaseException | None = None,
    wire: Wire | None = None,
    **more: Any,
) -> None:
    """Log ``text`` at ``level`` with the fields of ``event`` (and ``more``).

    Example::

        log(logging.WARNING, event, "Discarded ...")
    """
    # The record is made here rather than by logger.log(), which would walk the
    # stack to find this very function (findCaller): a few microseconds a line.
    error = None if exc_info is None else (type(exc_info), exc_info, exc_info.__traceback__)
    logger.handle(make_record(level, text, error, fields(event, wire, more)))


def make_record(level: int, text: str, error: Any, extra: dict[str, Any]) -> logging.LogRecord:
    """The record of one line: :func:`quick_record` while the record factory is
    logging's own, else the application's factory (one adding trace ids, say).

    Example::

        make_record(logging.INFO, "Performed ...", None, {"job_id": "0b6c"})
    """
    if logging.getLogRecordFactory() is logging.LogRecord:
        return quick_record(level, text, error, extra)
    return logger.makeRecord(logger.name, level, __file__, 0, "%s", (text,), error, "_log", extra)


def deferring_handler(level: int) -> Callable[[Any], None] | None:
    """Where to put a line of ours at ``level`` to be made into a record and
    written later, by the only handler that would see its record; ``None``
    whenever anything else would (a handler or filter on our logger, another
    handler on the root logger, a record factory of the application's), so that
    everyone else always gets a complete record at once.

    A handler takes such lines by having ``put_deferred`` (the worker's log sink,
    :mod:`activejob.worker.logsink`); it makes the record with the line's
    ``record()`` (the one :func:`make_record` would have made when the line was
    logged, same time and thread) only when it formats it.

    Example::

        put = deferring_handler(logging.INFO)
        if put is not None:
            put(line)
    """
    # What Logger.handle and callHandlers consult for a record of ours (the root
    # logger's own filters never see records propagated to it). Asked twice a job:
    # every test is an attribute read or a comparison, no call but getattr's.
    ours = logger
    if ours.handlers or ours.filters or not ours.propagate:
        return None
    root = ours.parent
    if root is None or root.parent is not None:
        return None
    handlers = root.handlers
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    put: Callable[[Any], None] | None = getattr(handler, "put_deferred", None)
    if put is None or handler.filters or level < handler.level:
        return None
    if logging.getLogRecordFactory() is not _LogRecord:
        return None
    return put


_LogRecord = logging.LogRecord


_template: dict[str, Any] = {}
"""The attributes of a record of ours that stay the same within a process."""
os.register_at_fork(after_in_child=_template.clear)  # a child has its own pid


def template() -> dict[str, Any]:
    """The attributes every record of ours shares in this process (file and module
    names, process id and name), taken once from a record made by logging.

    Example::

        template()["process"] == os.getpid()
    """
    shared = _template
    if not shared:  # the first line of this process (emptied in a forked child)
        made = logger.makeRecord(logger.name, logging.INFO, __file__, 0, "%s", ("",), None, "_log")
        shared.update(made.__dict__)
    return shared


def quick_record(
    level: int,
    text: str,
    error: Any,
    extra: dict[str, Any],
    *,
    created: float | None = None,
    thread: tuple[int | None, str] | None = None,
    task_name: str | None = None,
) -> logging.LogRecord:
    """The record ``logger.makeRecord`` would make, at about a third of its cost.

    ``LogRecord.__init__`` works out a dozen attributes that are the same for every
    line we log (:func:`template`): only the time, thread, level and message are
    set per line. ``created``, ``thread`` (its ident and name) and ``task_name``
    default to now, the current thread and its asyncio task; a line written later
    passes the ones it was logged with. Used only while the record factory is
    logging's own.

    Example::

        quick_record(logging.INFO, "Performed ...", None, {"job_id": "0b6c"})
    """
    record = logging.LogRecord.__new__(logging.LogRecord)
    attributes = record.__dict__
    attributes.update(template())
    if created is None:
        created = time.time()
    if thread is None:
        current = threading.current_thread()
        thread = current.ident, current.name
        task_name = current_task_name() if "taskName" in attributes else None
    attributes.update(extra)
    attributes.update(
        msg="%s",
        args=(text,),
        levelno=level,
        levelname=logging.getLevelName(level),
        exc_info=error,
        created=created,
        msecs=int((created - int(created)) * 1000) + 0.0,
        relativeCreated=(created - logging._startTime) * 1000,  # type: ignore[attr-defined]
        thread=thread[0],
        threadName=thread[1],
    )
    if "taskName" in attributes:  # Python 3.12+: the asyncio task logging, if any
        attributes["taskName"] = task_name
    return record


def current_task_name() -> str | None:
    """The name of the asyncio task running on this thread, if any (``taskName``).

    Example::

        current_task_name()  # None outside an event loop
    """
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    # No loop on this thread (a worker's job threads): known without the
    # RuntimeError that current_task() raises and we would catch, twice a job.
    loop = asyncio.events._get_running_loop()
    if loop is None:
        return None
    task = asyncio.current_task(loop)
    return None if task is None else task.get_name()


def fields(event: events.Event, wire: Wire | None, more: dict[str, Any]) -> dict[str, Any]:
    """The structured ``extra`` of a record: JSON-ready values only. Arguments are
    in it only where the line shows them (``wire``).

    Example::

        fields(event, None, {"step": "download"})["job_id"]
    """
    extra: dict[str, Any] = {"activejob_event": event.name}
    if event.adapter is not None:
        extra["adapter"] = adapter_name(event.adapter)
    job = event.job
    if job is not None:
        extra.update(
            job_class=job.job_class_name,
            job_id=job.job_id,
            provider_job_id=job.provider_job_id,
            queue_name=job.queue_name,
            priority=job.priority,
            executions=job.executions,
            scheduled_at=job.scheduled_at.isoformat() if job.scheduled_at else None,
        )
        if wire is not None:
            extra.update(job_arguments=wire[0], job_kwargs=wire[1])
    if event.duration is not None:
        extra["duration_ms"] = round(event.duration * 1000, 3)
    if event.exception is not None:
        extra["exception_class"] = class_name(event.exception)
    for key in ("outcome", "wait", "reason"):  # a cancel event's outcome too
        if key in event.extra:
            extra[key] = event.extra[key]
    extra.update(more)
    return extra

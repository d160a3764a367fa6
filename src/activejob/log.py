"""Log lines for job events, in the spirit of Active Job's, under the ``activejob`` logger.

A subscriber to :mod:`activejob.events`, installed when activejob is imported.
Like any library, activejob only emits records; the application decides where
they go (``logging.basicConfig(level=logging.INFO)`` shows them)::

    Enqueued myapp.jobs.ReportJob (Job ID: 0b6c...) to async(reports) with arguments: 42
    Performing myapp.jobs.ReportJob (Job ID: 0b6c...) from async(reports) enqueued at ...
    Performed myapp.jobs.ReportJob (Job ID: 0b6c...) from async(reports) in 12.35ms

Every record carries structured fields in ``extra`` (``job_class``, ``job_id``,
``queue_name``, ``duration_ms``, ...; see ``docs/observability.md``). A job
class with ``log_arguments = False`` keeps its arguments out of both. Turn the
lines off with :func:`uninstall`, or with the usual ``logging`` controls
(``logging.getLogger("activejob").setLevel(logging.WARNING)``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from activejob import events
from activejob.errors import shorten

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.core import JobCore

__all__ = ["install", "installed", "job_lines_at", "logger", "uninstall"]

logger = logging.getLogger("activejob")
"""The logger every line goes to."""

_installed = False

_job_line_level: ContextVar[int] = ContextVar("activejob_job_line_level", default=logging.INFO)
"""The level of the per-job ``Performing``/``Performed`` lines (see :func:`job_lines_at`)."""


@contextmanager
def job_lines_at(level: int) -> Iterator[None]:
    """Log the per-job ``Performing ...`` and ``Performed ...`` lines of the jobs
    performed in this block at ``level`` instead of INFO; failures, retries and
    discards keep their levels.

    A bridge runs its jobs inside this at the level its foreign worker logs its own
    per-message lines (Dramatiq's are DEBUG), so that worker's default level shows
    as much for a bridged job as for its own task.

    Example::

        with activejob.log.job_lines_at(logging.DEBUG):
            activejob.execute(payload)
    """
    token = _job_line_level.set(level)
    try:
        yield
    finally:
        _job_line_level.reset(token)


def install() -> None:
    """Log job events (done on import; calling it again changes nothing).

    Example::

        activejob.log.install()
    """
    global _installed
    for name, handler in _HANDLERS.items():
        events.unsubscribe(name, handler)
        events.subscribe(name, handler)
    _installed = True


def uninstall() -> None:
    """Stop logging job events.

    Example::

        activejob.log.uninstall()
    """
    global _installed
    for name, handler in _HANDLERS.items():
        events.unsubscribe(name, handler)
    _installed = False


def installed() -> bool:
    """Whether job events are being logged.

    Example::

        assert activejob.log.installed()
    """
    return _installed


# -- the lines -------------------------------------------------------------------------


def _enqueue(event: events.Event) -> None:
    level = logging.ERROR if event.exception is not None else logging.INFO
    if not logger.isEnabledFor(level):
        return
    job = _job_of(event)
    where = _where(job, event.adapter)
    if event.exception is not None:
        text = f"Failed enqueuing {job.job_class_name} to {where}: {_error(event.exception)}"
    elif event.extra.get("aborted"):
        text = (
            f"Failed enqueuing {job.job_class_name} to {where}, "
            "a before_enqueue callback halted the enqueuing execution."
        )
    elif getattr(job, "duplicate_of", None) is not None:  # flow: unique
        holder = getattr(job, "duplicate_of", None)
        if job.successfully_enqueued:
            text = f"Replaced the arguments and run time of waiting job {holder} by {_job(job)}'s"
        else:
            text = f"Skipped enqueuing {_job(job)} to {where}: its unique key is held by {holder}"
    else:
        at = f" at {job.scheduled_at.isoformat()}" if job.scheduled_at is not None else ""
        wire = _wire_arguments(job)
        text = f"Enqueued {_job(job)} to {where}{at}{_arguments_text(wire)}"
        _log(level, event, text, wire=wire)
        return
    _log(level, event, text)


def _enqueue_all(event: events.Event) -> None:
    level = logging.ERROR if event.exception is not None else logging.INFO
    if not logger.isEnabledFor(level):
        return
    jobs: list[JobCore] = list(event.extra.get("jobs", ()))
    adapter = _adapter_name(event.adapter)
    if event.exception is not None:
        text = f"Failed enqueuing {len(jobs)} jobs to {adapter}: {_error(event.exception)}"
        _log(level, event, text, jobs_count=len(jobs))
        return
    done = [j for j in jobs if j.successfully_enqueued]
    by_class = Counter(j.job_class_name for j in done)
    classes = ", ".join(f"{n} {name}" for name, n in by_class.items())
    text = f"Enqueued {_count(len(done), 'job')} to {adapter} ({classes})"
    if len(done) < len(jobs):
        text += f"; failed enqueuing {len(jobs) - len(done)}"
    _log(level, event, text, jobs_count=len(jobs), enqueued_count=len(done))


def _perform_start(event: events.Event) -> None:
    level = _job_line_level.get()
    if not logger.isEnabledFor(level):
        return
    job = _job_of(event)
    enqueued = f" enqueued at {job.enqueued_at.isoformat()}" if job.enqueued_at else ""
    wire = _wire_arguments(job)
    where = _where(job, event.adapter)
    text = f"Performing {_job(job)} from {where}{enqueued}{_arguments_text(wire)}"
    _log(level, event, text, wire=wire)


def _perform(event: events.Event) -> None:
    outcome = event.extra.get("outcome")
    exc = event.exception
    if outcome == "failed":
        level = logging.ERROR
    elif outcome == "resumed":
        _resumed(event)
        return
    elif outcome == "interrupted":
        level = logging.WARNING
    else:
        # A retry or a discard is the job's own rule at work: the Retrying and
        # Discarded lines say so; an app with default logging sees nothing here.
        level = _job_line_level.get()
    if not logger.isEnabledFor(level):
        return
    job = _job_of(event)
    head = f"{_job(job)} from {_where(job, event.adapter)} in {_ms(event.duration)}"
    if exc is None:
        halted = ", halted by a before_perform callback" if event.extra.get("halted") else ""
        _log(level, event, f"Performed {head}{halted}")
    elif outcome == "interrupted":
        _log(level, event, f"Interrupted performing {head}: {_error(exc)}")
    else:
        _log(level, event, f"Error performing {head}: {_error(exc)}", exc_info=exc)


def _resumed(event: events.Event) -> None:
    # The interrupt line said why and where; this one closes the Performing line.
    if not logger.isEnabledFor(logging.INFO):
        return
    job = _job_of(event)
    head = f"{_job(job)} from {_where(job, event.adapter)} in {_ms(event.duration)}"
    _log(logging.INFO, event, f"Performed {head}, interrupted: enqueued again to resume")


def _interrupt(event: events.Event) -> None:
    stopping = event.extra.get("reason") == "stopping"
    level = logging.INFO if stopping else logging.WARNING
    if not logger.isEnabledFor(level):
        return
    job = _job_of(event)
    where = _step_text(event)
    if stopping:
        text = f"Interrupting {_job(job)} at {where}: the worker is stopping; it resumes there"
    else:
        text = (
            f"Interrupting {_job(job)} at {where} due to {_error(event.exception)} "
            "after progress; it resumes there"
        )
    _log(level, event, text, step=event.extra.get("step"))


def _resume(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    job = _job_of(event)
    done = len(event.extra.get("completed") or ())
    text = (
        f"Resuming {_job(job)} at {_step_text(event)} ({_count(done, 'step')} done, "
        f"resumption {event.extra.get('resumptions')})"
    )
    _log(logging.INFO, event, text, step=event.extra.get("step"))


def _step_started(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    job = _job_of(event)
    again = "Resuming" if event.extra.get("resumed") else "Starting"
    _log(
        logging.DEBUG,
        event,
        f"{again} {_step_text(event)} of {_job(job)}",
        step=event.extra["step"],
    )


def _step(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    job = _job_of(event)
    how = (
        "interrupted"
        if event.extra.get("interrupted")
        else ("failed" if event.exception is not None else "finished")
    )
    text = f"{_step_text(event).capitalize()} of {_job(job)} {how} in {_ms(event.duration)}"
    _log(logging.DEBUG, event, text, step=event.extra["step"])


def _step_text(event: events.Event) -> str:
    step = event.extra.get("step")
    if step is None:
        return "the start of its next step"
    cursor = event.extra.get("cursor")
    return f"step {step!r}" + ("" if cursor is None else f" (cursor {shorten(repr(cursor))})")


def _enqueue_retry(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    job = _job_of(event)
    attempts = _count(int(event.extra.get("executions") or job.executions), "attempt")
    text = f"Retrying {_job(job)} after {attempts} in {_seconds(event.extra.get('wait'))}"
    if event.exception is not None:
        text += f", due to {_error(event.exception)}"
    _log(logging.INFO, event, text + ".")


def _retry_stopped(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.ERROR):
        return
    job = _job_of(event)
    attempts = _count(int(event.extra.get("executions") or job.executions), "attempt")
    text = (
        f"Stopped retrying {_job(job)} due to {_error(event.exception)}, "
        f"which reoccurred on {attempts}."
    )
    _log(logging.ERROR, event, text)


def _discard(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.WARNING):
        return
    job = _job_of(event)
    _log(logging.WARNING, event, f"Discarded {_job(job)} due to {_error(event.exception)}.")


# -- flow: timeouts and cancellation ------------------------------------------------------


def _timeout(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.WARNING):
        return
    job = _job_of(event)
    seconds = event.extra.get("timeout")
    text = f"Timed out {_job(job)} after {_seconds(seconds)}"
    if event.extra.get("abandoned"):
        text += (
            " without reaching a checkpoint: recorded by its worker, whose process is "
            "replaced once its other jobs finish"
        )
    _log(logging.WARNING, event, text + ".", timeout=seconds)


def _cancel(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    job_id, outcome, state = (event.extra.get(k) for k in ("job_id", "outcome", "state"))
    text = {
        "discarded": f"Cancelled job {job_id}: discarded (it was {state}).",
        "requested": f"Cancel requested for running job {job_id}: its worker stops it.",
    }.get(str(outcome), f"Did not cancel job {job_id}: it had finished ({state}).")
    _log(logging.INFO, event, text, job_id=job_id, state=state)


_HANDLERS: dict[str, Callable[[events.Event], None]] = {
    "enqueue": _enqueue,
    "enqueue_at": _enqueue,
    "enqueue_all": _enqueue_all,
    "perform_start": _perform_start,
    "perform": _perform,
    "enqueue_retry": _enqueue_retry,
    "retry_stopped": _retry_stopped,
    "discard": _discard,
    "interrupt": _interrupt,
    "resume": _resume,
    "step_started": _step_started,
    "step": _step,
    "timeout": _timeout,  # flow: timeouts and cancellation
    "cancel": _cancel,
}


# -- formatting --------------------------------------------------------------------------


def _log(
    level: int,
    event: events.Event,
    text: str,
    *,
    exc_info: BaseException | None = None,
    wire: _Wire | None = None,
    **fields: Any,
) -> None:
    # The record is made here rather than by logger.log(), which would walk the
    # stack to find this very function (findCaller): a few microseconds a line.
    error = None if exc_info is None else (type(exc_info), exc_info, exc_info.__traceback__)
    extra = _fields(event, wire, fields)
    if logging.getLogRecordFactory() is logging.LogRecord:
        record = _quick_record(level, text, error, extra)
    else:  # an application's factory (one adding trace ids, say) makes every record
        record = logger.makeRecord(
            logger.name, level, __file__, 0, "%s", (text,), error, "_log", extra
        )
    logger.handle(record)


_template: dict[str, Any] = {}
"""The attributes of a record of ours that stay the same within a process."""
os.register_at_fork(after_in_child=_template.clear)  # a child has its own pid


def _quick_record(level: int, text: str, error: Any, extra: dict[str, Any]) -> logging.LogRecord:
    """The record ``logger.makeRecord`` would make, at about a third of its cost.

    ``LogRecord.__init__`` works out a dozen attributes that are the same for every
    line we log (file and module names, process id and name): they are taken once
    per process from a real record, and only the time, thread, level and message
    are set per line. Used only while the record factory is logging's own.
    """
    template = _template
    if not template:  # the first line of this process (emptied in a forked child)
        made = logger.makeRecord(logger.name, level, __file__, 0, "%s", ("",), None, "_log")
        template.update(made.__dict__)
    record = logging.LogRecord.__new__(logging.LogRecord)
    fields = record.__dict__
    fields.update(template)
    created = time.time()
    thread = threading.current_thread()
    fields.update(extra)
    fields.update(
        msg="%s",
        args=(text,),
        levelno=level,
        levelname=logging.getLevelName(level),
        exc_info=error,
        created=created,
        msecs=int((created - int(created)) * 1000) + 0.0,
        relativeCreated=(created - logging._startTime) * 1000,  # type: ignore[attr-defined]
        thread=thread.ident,
        threadName=thread.name,
    )
    if "taskName" in fields:  # Python 3.12+: the asyncio task logging, if any
        fields["taskName"] = _task_name()
    return record


def _task_name() -> str | None:
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop on this thread
        return None
    return None if task is None else task.get_name()


def _fields(event: events.Event, wire: _Wire | None, more: dict[str, Any]) -> dict[str, Any]:
    """The structured ``extra`` of a record: JSON-ready values only. Arguments are
    in it only where the line shows them (``wire``)."""
    fields: dict[str, Any] = {"activejob_event": event.name}
    if event.adapter is not None:
        fields["adapter"] = _adapter_name(event.adapter)
    job = event.job
    if job is not None:
        fields.update(
            job_class=job.job_class_name,
            job_id=job.job_id,
            provider_job_id=job.provider_job_id,
            queue_name=job.queue_name,
            priority=job.priority,
            executions=job.executions,
            scheduled_at=job.scheduled_at.isoformat() if job.scheduled_at else None,
        )
        if wire is not None:
            fields.update(job_arguments=wire[0], job_kwargs=wire[1])
    if event.duration is not None:
        fields["duration_ms"] = round(event.duration * 1000, 3)
    if event.exception is not None:
        fields["exception_class"] = _class_name(event.exception)
    for key in ("outcome", "wait", "reason"):  # a cancel event's outcome too
        if key in event.extra:
            fields[key] = event.extra[key]
    fields.update(more)
    return fields


def _job_of(event: events.Event) -> JobCore:
    assert event.job is not None, f"{event.name} events carry a job"
    return event.job


def _job(job: JobCore) -> str:
    return f"{job.job_class_name} (Job ID: {job.job_id})"


def _where(job: JobCore, adapter: Adapter | None) -> str:
    if adapter is None:
        return f"queue {job.queue_name}"
    return f"{_adapter_name(adapter)}({job.queue_name})"


def _adapter_name(adapter: Adapter | None) -> str:
    if adapter is None:
        return "an unknown adapter"
    return adapter.scheme or type(adapter).__name__


_Wire = tuple[list[Any], dict[str, Any]]


def _wire_arguments(job: JobCore) -> _Wire | None:
    """The arguments as stored (``None`` for a job with ``log_arguments = False``),
    so logging never deserialises (no lookups, no errors moved out of
    ``perform``); a job built for ``perform_now`` with arguments JSON cannot hold
    falls back to their ``repr``."""
    if not getattr(type(job), "log_arguments", True):
        return None
    try:
        return job.serialized_arguments()
    except Exception:
        return [repr(a) for a in job.arguments], {k: repr(v) for k, v in job.kwargs.items()}


def _arguments_text(wire: _Wire | None) -> str:
    if wire is None or not (wire[0] or wire[1]):
        return ""
    args, kwargs = wire
    # One encode of the list, brackets dropped: the arguments joined by the encoder's ", ".
    parts = [_json(args)[1:-1]] if args else []
    parts += [f"{k}={_json(v)}" for k, v in kwargs.items()]
    return " with arguments: " + ", ".join(parts)


_encode = json.JSONEncoder(ensure_ascii=False, default=repr).encode
"""``json.dumps(value, ensure_ascii=False, default=repr)`` without building an encoder
per call."""


def _json(value: Any) -> str:
    return _encode(value)


def _error(exc: BaseException | None) -> str:
    if exc is None:
        return "an unknown error"
    return f"{_class_name(exc)} ({exc})"


def _class_name(exc: BaseException) -> str:
    cls = type(exc)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _ms(duration: float | None) -> str:
    return f"{(duration or 0.0) * 1000:.2f}ms"


def _seconds(wait: Any) -> str:
    return f"{float(wait or 0):g} seconds"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

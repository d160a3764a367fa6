"""The line of each job event: its level and text (``docs/observability.md``).

Each handler here is a subscriber to one event (:data:`HANDLERS`, subscribed by
:func:`activejob.log.install`); it returns at once when the logger would drop
its line, so a line nobody shows costs neither text nor record.

Example::

    events.subscribe("discard", HANDLERS["discard"])
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from activejob import events
from activejob.errors import shorten
from activejob.log.deferred import emit, performed, performing
from activejob.log.records import deferring_handler, log, logger
from activejob.log.text import (
    adapter_name,
    arguments_text,
    count,
    error,
    job_of,
    ms,
    place,
    seconds,
    wire_arguments,
)

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.core import JobCore

job_line_level: ContextVar[int] = ContextVar("activejob_job_line_level", default=logging.INFO)
"""The level of the per-job ``Performing``/``Performed`` lines (see
:func:`activejob.log.job_lines_at`)."""


# -- the lines -------------------------------------------------------------------------


def _enqueue(event: events.Event) -> None:
    level = logging.ERROR if event.exception is not None else logging.INFO
    if not logger.isEnabledFor(level):
        return
    job = _job_of(event)
    where = _where(job, event.adapter)
    if event.exception is not None:
        text = f"Failed enqueuing {job.job_class_name} to {where}: {error(event.exception)}"
    elif event.extra.get("aborted"):
        text = (
            f"Failed enqueuing {job.job_class_name} to {where}, "
            "a before_enqueue callback halted the enqueuing execution."
        )
    elif getattr(job, "duplicate_of", None) is not None:  # flow: unique
        holder = getattr(job, "duplicate_of", None)
        if job.successfully_enqueued:
            text = f"Replaced the arguments and run time of waiting job {holder} by {job_of(job)}'s"
        else:
            text = f"Skipped enqueuing {job_of(job)} to {where}: its unique key is held by {holder}"
    else:
        at = f" at {job.scheduled_at.isoformat()}" if job.scheduled_at is not None else ""
        wire = wire_arguments(job)
        text = f"Enqueued {job_of(job)} to {where}{at}{arguments_text(wire)}"
        log(level, event, text, wire=wire)
        return
    log(level, event, text)


def _enqueue_all(event: events.Event) -> None:
    level = logging.ERROR if event.exception is not None else logging.INFO
    if not logger.isEnabledFor(level):
        return
    jobs: list[JobCore] = list(event.extra.get("jobs", ()))
    adapter = adapter_name(event.adapter)
    if event.exception is not None:
        text = f"Failed enqueuing {len(jobs)} jobs to {adapter}: {error(event.exception)}"
        log(level, event, text, jobs_count=len(jobs))
        return
    done = [j for j in jobs if j.successfully_enqueued]
    by_class = Counter(j.job_class_name for j in done)
    classes = ", ".join(f"{n} {name}" for name, n in by_class.items())
    text = f"Enqueued {count(len(done), 'job')} to {adapter} ({classes})"
    if len(done) < len(jobs):
        text += f"; failed enqueuing {len(jobs) - len(done)}"
    log(level, event, text, jobs_count=len(jobs), enqueued_count=len(done))


def _perform_start(event: events.Event) -> None:
    level = job_line_level.get()
    if not logger.isEnabledFor(level):
        return
    put = deferring_handler(level)  # the worker's sink: the line goes over as values
    if put is not None:
        put(performing(level, event))
    else:
        emit(performing(level, event))


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
        level = job_line_level.get()
    if not logger.isEnabledFor(level):
        return
    if exc is None:
        put = deferring_handler(level)
        if put is not None:
            put(performed(level, event))
        else:
            emit(performed(level, event))
        return
    job = _job_of(event)
    head = f"{job_of(job)} from {_where(job, event.adapter)} in {ms(event.duration)}"
    if outcome == "interrupted":
        log(level, event, f"Interrupted performing {head}: {error(exc)}")
    else:
        log(level, event, f"Error performing {head}: {error(exc)}", exc_info=exc)


def _resumed(event: events.Event) -> None:
    # The interrupt line said why and where; this one closes the Performing line.
    if not logger.isEnabledFor(logging.INFO):
        return
    job = _job_of(event)
    head = f"{job_of(job)} from {_where(job, event.adapter)} in {ms(event.duration)}"
    log(logging.INFO, event, f"Performed {head}, interrupted: enqueued again to resume")


def _interrupt(event: events.Event) -> None:
    stopping = event.extra.get("reason") == "stopping"
    level = logging.INFO if stopping else logging.WARNING
    if not logger.isEnabledFor(level):
        return
    job = _job_of(event)
    where = _step_text(event)
    if stopping:
        text = f"Interrupting {job_of(job)} at {where}: the worker is stopping; it resumes there"
    else:
        text = (
            f"Interrupting {job_of(job)} at {where} due to {error(event.exception)} "
            "after progress; it resumes there"
        )
    log(level, event, text, step=event.extra.get("step"))


def _resume(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    job = _job_of(event)
    done = len(event.extra.get("completed") or ())
    text = (
        f"Resuming {job_of(job)} at {_step_text(event)} ({count(done, 'step')} done, "
        f"resumption {event.extra.get('resumptions')})"
    )
    log(logging.INFO, event, text, step=event.extra.get("step"))


def _step_started(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    job = _job_of(event)
    again = "Resuming" if event.extra.get("resumed") else "Starting"
    log(
        logging.DEBUG,
        event,
        f"{again} {_step_text(event)} of {job_of(job)}",
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
    text = f"{_step_text(event).capitalize()} of {job_of(job)} {how} in {ms(event.duration)}"
    log(logging.DEBUG, event, text, step=event.extra["step"])


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
    attempts = count(int(event.extra.get("executions") or job.executions), "attempt")
    text = f"Retrying {job_of(job)} after {attempts} in {seconds(event.extra.get('wait'))}"
    if event.exception is not None:
        text += f", due to {error(event.exception)}"
    log(logging.INFO, event, text + ".")


def _retry_stopped(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.ERROR):
        return
    job = _job_of(event)
    attempts = count(int(event.extra.get("executions") or job.executions), "attempt")
    text = (
        f"Stopped retrying {job_of(job)} due to {error(event.exception)}, "
        f"which reoccurred on {attempts}."
    )
    log(logging.ERROR, event, text)


def _discard(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.WARNING):
        return
    job = _job_of(event)
    log(logging.WARNING, event, f"Discarded {job_of(job)} due to {error(event.exception)}.")


# -- flow: timeouts and cancellation ------------------------------------------------------


def _timeout(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.WARNING):
        return
    job = _job_of(event)
    limit = event.extra.get("timeout")
    text = f"Timed out {job_of(job)} after {seconds(limit)}"
    if event.extra.get("abandoned"):
        text += (
            " without reaching a checkpoint: recorded by its worker, whose process is "
            "replaced once its other jobs finish"
        )
    log(logging.WARNING, event, text + ".", timeout=limit)


def _cancel(event: events.Event) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    job_id, outcome, state = (event.extra.get(k) for k in ("job_id", "outcome", "state"))
    text = {
        "discarded": f"Cancelled job {job_id}: discarded (it was {state}).",
        "requested": f"Cancel requested for running job {job_id}: its worker stops it.",
    }.get(str(outcome), f"Did not cancel job {job_id}: it had finished ({state}).")
    log(logging.INFO, event, text, job_id=job_id, state=state)


HANDLERS: dict[str, Callable[[events.Event], None]] = {
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


def _info_enabled() -> bool:
    return logger.isEnabledFor(logging.INFO)


GATES: dict[str, Callable[[], bool]] = {
    "enqueue": _info_enabled,
    "enqueue_at": _info_enabled,
}
"""For the enqueue events: whether their handler would log anything for an event
without an exception (``events.subscribe(..., when=)``), so at WARNING an enqueue
makes no event. Not for ``perform_start``/``perform``: a worker logs at INFO, where
the gate would be asked twice a job only to say yes (about 5,000 instructions
a job, measured with ``bench/log_cost.py count``)."""


def _job_of(event: events.Event) -> JobCore:
    assert event.job is not None, f"{event.name} events carry a job"
    return event.job


def _where(job: JobCore, adapter: Adapter | None) -> str:
    return place(job.queue_name, None if adapter is None else adapter_name(adapter))

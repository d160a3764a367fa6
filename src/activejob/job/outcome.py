"""How a run ended: the :class:`Outcome` the skeleton in
:mod:`activejob.job.execution` produces, how an exception becomes one (through the
job's rules), the ``perform`` event that reports it, and :func:`settle`, the one
reader of an outcome outside a worker (a worker's is
:func:`activejob.worker.outcomes.result_for`).

Import these from :mod:`activejob.job.execution`, which re-exports them.

Example::

    outcome = run(payload)
    outcome.kind  # 'succeeded', 'retry', 'discarded', 'failed' or 'resumed'
    settle(outcome)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from activejob import events
from activejob.errors import Abort, JobCancelled, JobTimeout
from activejob.flow.timeouts import control_of, timeout_seconds
from activejob.job import rules

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.base import Job

__all__ = [
    "Outcome",
    "OutcomeKind",
    "abandoned",
    "failure_outcome",
    "report_end",
    "report_interrupted",
    "settle",
]

OutcomeKind = Literal["succeeded", "retry", "discarded", "failed", "resumed"]
"""How an execution ended (see :class:`Outcome`)."""


@dataclass
class Outcome:
    """How one execution ended.

    ``kind`` is ``"succeeded"`` (``value`` holds perform's result; also when a
    before-perform callback aborted, with ``halted`` true, or a ``rescue_from``
    handled the error), ``"retry"`` (``retry`` holds the decision to apply),
    ``"discarded"`` or ``"failed"`` (``exception`` is set), or ``"resumed"`` (a
    continuation stopped at a checkpoint, or failed after progress, with
    ``exception`` set then: enqueue it again at once, its progress in the
    payload). ``job`` is ``None`` only when the payload could not be turned into
    a job.
    """

    kind: OutcomeKind
    job: Job | None
    value: Any = None
    exception: BaseException | None = None
    retry: rules.RetryDecision | None = None
    halted: bool = False


def settle(outcome: Outcome) -> Any:
    """Carry out an outcome the way Active Job does and return perform's value.

    The one place outside a worker that acts on an outcome (``perform_now``,
    :func:`execute`, and the inline, async and test adapters): a retry is
    enqueued again by :meth:`~activejob.job.enqueuing.Enqueuing.retry_job` (which
    emits ``enqueue_retry``) and returns ``None``; a resumed continuation is
    enqueued again at once through its adapter and returns ``None``; a failure
    raises its exception; a success or a discard returns the value (``None``
    for a discard). A worker
    stores outcomes instead, in :mod:`activejob.worker.outcomes`.
    """
    if outcome.kind == "retry":
        assert outcome.job is not None and outcome.retry is not None
        outcome.job.retry_job(outcome.retry)
        return None
    if outcome.kind == "failed":
        assert outcome.exception is not None
        raise outcome.exception
    if outcome.kind == "resumed":
        assert outcome.job is not None
        outcome.job.scheduled_at = None  # at once
        outcome.job.enqueue()
        return None
    return outcome.value


def failure_outcome(
    job: Job, exc: Exception, adapter: Adapter | None, *, abandoned: bool = False
) -> Outcome:
    """The outcome of an exception that ended a run: ``Abort`` halts it as a
    success, ``JobCancelled`` discards it, anything else (``JobTimeout`` too, after
    a ``timeout`` event) goes through the job's rules; a discard runs the
    ``after_discard`` callbacks. A handler that raises fails the job."""
    if isinstance(exc, Abort):
        return Outcome("succeeded", job, halted=True)
    if isinstance(exc, JobTimeout):  # flow: timeouts; then the rules decide, as for any error
        events.emit(
            "timeout", job, adapter, exception=exc, timeout=exc.seconds, abandoned=abandoned
        )
    elif isinstance(exc, JobCancelled):  # flow: cancellation ends the job, whatever its rules
        events.emit("discard", job, adapter, exception=exc, reason="cancel")
        return _after_discard(job, Outcome("discarded", job, exception=exc))
    try:
        decision = rules.decide(job, exc)
    except Exception as handler_error:
        # A handler (on_discard, on_exhausted, rescue_from) that raises fails the job.
        exc, decision = handler_error, None
    if isinstance(decision, rules.RetryDecision):
        return Outcome("retry", job, exception=exc, retry=decision)
    if isinstance(decision, rules.RescuedDecision):
        return Outcome("succeeded", job, value=decision.value, exception=exc)
    outcome = Outcome("discarded" if decision else "failed", job, exception=exc)
    if decision is not None:
        events.emit("discard", job, adapter, exception=exc, reason=decision.reason)
    return _after_discard(job, outcome)


def abandoned(job: Job, adapter: Adapter | None) -> Outcome:
    """How a run ends that went past its timeout and never reached a checkpoint,
    decided while its thread still runs (a worker records it and never waits for
    the thread): a :class:`~activejob.JobTimeout` judged by the job's rules, so
    ``retry_on(JobTimeout)`` applies. Emits ``timeout`` (``abandoned: True``)."""
    control = control_of(job)
    error = control.error()
    if not isinstance(error, JobTimeout):
        error = JobTimeout.after(job, timeout_seconds(job.timeout))
    control.abandoned = True  # the thread's own end, if it comes, reports nothing
    outcome = failure_outcome(job, error, adapter, abandoned=True)
    events.emit(
        "perform",
        job,
        adapter,
        duration=control.timeout,
        exception=outcome.exception,
        outcome=outcome.kind,
        halted=False,
    )
    return outcome


def _after_discard(job: Job, outcome: Outcome) -> Outcome:
    chain = job._activejob_callbacks.get("discard", ())
    for _, callback in reversed(chain):
        try:
            callback(job, outcome.exception)
        except Exception as exc:
            return Outcome("failed", job, exception=exc)
    return outcome


def report_end(job: Job, adapter: Adapter | None, started: float, outcome: Outcome) -> Outcome:
    """Emit ``perform`` for a run that began at ``started`` (``perf_counter``) and
    ended with ``outcome``; returns it. Silent for a run its worker abandoned."""
    control = job._activejob_control
    if control is not None and control.abandoned:
        return outcome  # flow: timeouts. Its worker reported this run's end already.
    events.emit(
        "perform",
        job,
        adapter,
        duration=time.perf_counter() - started,
        exception=outcome.exception if outcome.kind != "succeeded" else None,
        outcome=outcome.kind,
        halted=outcome.halted,
    )
    return outcome


def report_interrupted(
    job: Job, adapter: Adapter | None, started: float, exc: BaseException
) -> None:
    """Emit ``perform`` (outcome ``interrupted``) for a run ended by a
    ``BaseException`` that is not the job's failure."""
    # Not the job's failure (KeyboardInterrupt, a cancelled task), but every
    # perform_start gets its perform, so spans and gauges are closed.
    duration = time.perf_counter() - started
    events.emit(
        "perform",
        job,
        adapter,
        duration=duration,
        exception=exc,
        outcome="interrupted",
        halted=False,
    )

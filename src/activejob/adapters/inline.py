"""``inline:``: run each job in the caller, at once. For development and scripts.

The job still makes a JSON round trip, so what works inline works on a real
backend. Scheduled jobs are refused with a clear error; a retry runs again at
once (the wait is skipped), so a job's whole retry story plays out in the call,
and an exception no rule handles reaches the caller of ``perform_later``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from activejob import events
from activejob.adapters.base import Adapter, payload_copy
from activejob.job.execution import run

if TYPE_CHECKING:
    from activejob.job.base import Job
    from activejob.job.rules import RetryDecision


class InlineAdapter(Adapter):
    """Performs jobs in the calling thread as they are enqueued."""

    scheme: ClassVar[str] = "inline"
    supports_scheduling: ClassVar[bool] = False
    performs_inline: ClassVar[bool] = True

    def enqueue(self, job: Job) -> None:
        outcome = run(payload_copy(job), adapter=self)
        while outcome.kind == "retry":
            assert outcome.job is not None and outcome.retry is not None
            retried = outcome.job
            _apply_at_once(retried, outcome.retry)
            events.emit(
                "enqueue_retry",
                retried,
                self,
                exception=outcome.exception,
                wait=0.0,
                executions=retried.executions,
            )
            outcome = run(payload_copy(retried), adapter=self)
        if outcome.kind == "failed":
            assert outcome.exception is not None
            raise outcome.exception

    def retry(self, job: Job, decision: RetryDecision) -> None:
        _apply_at_once(job, decision)
        events.emit(
            "enqueue_retry",
            job,
            self,
            exception=decision.exception,
            wait=0.0,
            executions=job.executions,
        )
        job.enqueue()


def _apply_at_once(job: Job, decision: RetryDecision) -> None:
    """Take the decision's queue and priority, but not its time: inline runs now."""
    job.apply_retry(decision)
    job.scheduled_at = None

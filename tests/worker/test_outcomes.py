"""From an outcome to the result a worker stores: the retry path (worker/outcomes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from activejob import Job, _time, events
from activejob.job.execution import Outcome
from activejob.job.rules import RetryDecision
from activejob.storage.base import ClaimedJob, JobState
from activejob.worker.outcomes import result_for


class Report(Job):
    queue_as = "reports"

    def perform(self, value: object) -> None: ...


@pytest.fixture
def seen() -> Iterator[list[events.Event]]:
    received: list[events.Event] = []
    for name in ("enqueue_retry", "job_failed", "enqueue", "enqueue_at"):
        events.subscribe(name, received.append)
    yield received
    for name in ("enqueue_retry", "job_failed", "enqueue", "enqueue_at"):
        events.unsubscribe(name, received.append)


def _retry(job: Job, exc: Exception) -> tuple[ClaimedJob, Outcome]:
    at = _time.utcnow() + timedelta(seconds=30)
    decision = RetryDecision(at=at, wait=30.0, queue="later", priority=7, exception=exc)
    claimed = ClaimedJob(id=1, job_id=job.job_id, queue_name="reports", payload="{}", attempts=1)
    return claimed, Outcome("retry", job, exception=exc, retry=decision)


def test_a_stored_retry_is_reported_once_and_enqueues_nothing(seen: list[events.Event]) -> None:
    job = Report(1)
    job.executions = 1
    claimed, outcome = _retry(job, LookupError("flaky"))
    result = result_for(claimed, outcome, adapter=None)
    assert result.state is JobState.SCHEDULED
    assert result.queue_name == "later" and result.priority == 7
    assert outcome.retry is not None and result.run_at == outcome.retry.at.timestamp()
    assert result.error is not None and result.error.message == "flaky"
    [retry] = seen  # no enqueue: the storage records the retry itself
    assert retry.name == "enqueue_retry" and retry.job is job
    assert retry.extra == {"wait": 30.0, "executions": 1}


def test_a_retry_whose_payload_no_longer_encodes_is_failed_unreported(
    seen: list[events.Event],
) -> None:
    job = Report(object())  # arguments that cannot be serialised
    claimed, outcome = _retry(job, LookupError("flaky"))
    result = result_for(claimed, outcome, adapter=None)
    assert result.state is JobState.FAILED
    assert result.error is not None and "SerializationError" in result.error.exception_class
    assert [e.name for e in seen] == ["job_failed"]

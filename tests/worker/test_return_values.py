"""A job class that keeps its return value: what the worker stores (worker/outcomes.py),
and the whole path through a real worker on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from activejob import Job
from activejob.adapters.sqlite import SQLiteAdapter
from activejob.job.execution import Outcome
from activejob.storage.base import ClaimedJob, JobState
from activejob.storage.return_value import RETURN_VALUE_LIMIT
from activejob.worker.options import WorkerOptions
from activejob.worker.outcomes import result_for
from activejob.worker.process import WorkerProcess


class Total(Job):
    keep_return_value = True

    def perform(self, *values: int) -> object:
        return {"total": sum(values)} if values else None


class Plain(Job):
    def perform(self) -> int:
        return 7


def _claimed(job: Job) -> ClaimedJob:
    return ClaimedJob(id=1, job_id=job.job_id, queue_name="default", payload="{}", attempts=1)


def test_a_kept_value_is_stored_as_json_and_others_are_not() -> None:
    job = Total(1, 2)
    kept = result_for(_claimed(job), Outcome("succeeded", job, value={"total": 3}))
    assert kept.state is JobState.SUCCEEDED and kept.return_value == '{"total":3}'
    plain = Plain()
    assert result_for(_claimed(plain), Outcome("succeeded", plain, value=7)).return_value is None
    none = result_for(_claimed(job), Outcome("succeeded", job, value=None))
    assert none.return_value is None


def test_a_value_that_cannot_be_kept_fails_the_job_saying_why() -> None:
    job = Total()
    for value, why in ((object(), "not JSON"), (float("nan"), "not JSON"),
                       ("x" * RETURN_VALUE_LIMIT, "over the 1,048,576-byte limit")):  # fmt: skip
        result = result_for(_claimed(job), Outcome("succeeded", job, value=value))
        assert result.state is JobState.FAILED and result.return_value is None
        assert result.error is not None
        assert result.error.exception_class == "activejob.errors.ReturnValueError"
        assert why in result.error.message


def test_the_worker_keeps_the_value_with_the_finished_job(tmp_path: Path) -> None:
    adapter = SQLiteAdapter.from_url(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    try:
        Total.queue_adapter = adapter
        job = Total.perform_later(20, 22)
        WorkerProcess(adapter.storage, WorkerOptions(queues=("*",))).run(burst=True)
        info = adapter.storage.get(job.job_id)
        assert info is not None and info.state is JobState.SUCCEEDED
        assert json.loads(info.return_value or "null") == {"total": 42}
    finally:
        Total.queue_adapter = None
        adapter.shutdown()

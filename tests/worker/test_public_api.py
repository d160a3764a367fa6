"""The top-level names a user types: ``activejob.Worker(...).run()`` and
``activejob.status(job_id)``, with every field status reports."""

from __future__ import annotations

from datetime import timedelta

import activejob
from activejob.storage.base import JobState
from tests.worker.conftest import FAST, Background
from tests.worker.jobs import Broken, Flaky, Note


def test_worker_and_status_from_the_top_level_package(url: str) -> None:
    done = Note.perform_later("done")
    retried = Flaky.perform_later("flaky", 1)
    broken = Broken.perform_later("the printer is on fire")
    later = Note.set(wait=3600).perform_later("later")
    worker = activejob.Worker(url, queues="*", options=FAST)

    background = Background(worker, burst=True)
    background.thread.start()
    background.join()

    ok = activejob.status(done.job_id)
    assert ok is not None and ok.state is JobState.SUCCEEDED
    assert ok.job_id == done.job_id and ok.job_class == "tests.worker.jobs.Note"
    assert ok.attempts == 1 and ok.error is None
    assert ok.started_at is not None and ok.finished_at is not None
    assert ok.created_at <= ok.started_at <= ok.finished_at
    assert ok.worker_id == worker.worker_id

    again = activejob.status(retried)  # a job instance works too
    assert again is not None and again.state is JobState.SUCCEEDED and again.attempts == 2
    assert again.payload["executions"] == 1  # the payload the retry stored

    failed = activejob.status(broken.job_id)
    assert failed is not None and failed.state is JobState.FAILED and failed.attempts == 1
    assert failed.finished_at is not None
    assert failed.error is not None and failed.error.exception_class == "builtins.ValueError"
    assert failed.error.message == "the printer is on fire"
    assert "raise ValueError(message)" in failed.error.traceback

    waiting = activejob.status(later.job_id)
    assert waiting is not None and waiting.state is JobState.SCHEDULED
    assert waiting.attempts == 0 and waiting.started_at is None and waiting.finished_at is None
    assert later.scheduled_at is not None
    assert abs(waiting.run_at - later.scheduled_at) < timedelta(seconds=1)

    assert activejob.status("no-such-job") is None


class WaitingRetryError(Exception):
    pass


@activejob.retry_on(WaitingRetryError, wait=3600, attempts=3, jitter=0)
class RetriesInAnHour(activejob.Job):
    def perform(self) -> None:
        raise WaitingRetryError("the gateway said: later")


def test_a_job_waiting_for_its_retry_shows_why(url: str) -> None:
    job = RetriesInAnHour.perform_later()
    background = Background(activejob.Worker(url, options=FAST), burst=True)
    background.thread.start()
    background.join()

    info = activejob.status(job.job_id)
    assert info is not None and info.state is JobState.SCHEDULED
    assert info.error is not None
    assert info.error.exception_class.endswith("WaitingRetryError")
    assert info.error.message == "the gateway said: later"
    assert "Traceback" in info.error.traceback

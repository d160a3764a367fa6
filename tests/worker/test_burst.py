"""Burst mode against the real SQLite storage: everything runs, then the worker returns."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from activejob.storage.base import JobState, NewJob, Result, Storage
from tests.worker.conftest import FAST, run_burst
from tests.worker.jobs import Broken, Chain, Flaky, Note, RaisesUnprintable, labels


def test_burst_runs_ready_scheduled_and_retried_jobs(url: str, storage: Storage) -> None:
    now = Note.perform_later("now")
    later = Note.set(wait=0.5).perform_later("later")
    flaky = Flaky.perform_later("flaky", 2)

    run_burst(url)

    assert sorted(labels()) == ["flaky#1", "flaky#2", "flaky#3", "later", "now"]
    for job in (now, later, flaky):
        info = storage.get(job.job_id)
        assert info is not None and info.state is JobState.SUCCEEDED
    retried = storage.get(flaky.job_id)
    assert retried is not None
    # Three claims of one row; the payload is the one the last retry stored.
    assert retried.attempts == 3 and retried.payload["executions"] == 2
    scheduled = storage.get(later.job_id)
    assert scheduled is not None and scheduled.started_at is not None
    assert later.scheduled_at is not None and scheduled.started_at >= later.scheduled_at


def test_burst_waits_for_jobs_that_jobs_enqueue(url: str, storage: Storage) -> None:
    Chain.perform_later(3)

    run_burst(url)

    assert labels() == ["chain3", "chain2", "chain1", "chain0"]


def test_burst_leaves_jobs_scheduled_beyond_the_horizon(url: str, storage: Storage) -> None:
    far = Note.set(wait=3600).perform_later("far")
    Note.perform_later("near")
    started = time.monotonic()

    run_burst(url)

    assert labels() == ["near"]
    assert time.monotonic() - started < FAST.burst_horizon
    info = storage.get(far.job_id)
    assert info is not None and info.state is JobState.SCHEDULED


def test_failed_job_is_kept_with_class_message_and_traceback(url: str, storage: Storage) -> None:
    job = Broken.perform_later("the disk is full")

    run_burst(url)

    info = storage.get(job.job_id)
    assert info is not None and info.state is JobState.FAILED
    assert info.error is not None
    assert info.error.exception_class == "builtins.ValueError"
    assert info.error.message == "the disk is full"
    assert "raise ValueError(message)" in info.error.traceback
    assert "tests/worker/jobs.py" in info.error.traceback


def test_an_exception_that_cannot_be_printed_still_fails_the_job(
    url: str, storage: Storage
) -> None:
    job = RaisesUnprintable.perform_later()

    run_burst(url)

    info = storage.get(job.job_id)
    assert info is not None and info.state is JobState.FAILED
    assert info.error is not None
    assert info.error.exception_class == "tests.worker.jobs.Unprintable"
    assert "unprintable" in info.error.message


def _bad(job_id: str, payload: str) -> NewJob:
    return NewJob(job_id, "tests.worker.jobs.Note", "default", 0, payload)


@pytest.mark.parametrize(
    ("payload", "error_class", "words"),
    [
        ("{not json", "activejob.errors.DeserializationError", "not valid JSON"),
        ("unknown-class", "activejob.errors.UnknownJobClassError", "no.such.Job"),
        ("bad-argument", "activejob.errors.DeserializationError", "no_such_type"),
        ("missing-key", "activejob.errors.DeserializationError", "queue_name"),
    ],
)
def test_bad_input_fails_that_job_and_the_worker_goes_on(
    url: str, storage: Storage, payload: str, error_class: str, words: str
) -> None:
    template = Note("x").serialize()
    if payload == "unknown-class":
        payload = json.dumps({**template, "job_class": "no.such.Job"})
    elif payload == "bad-argument":
        payload = json.dumps({**template, "arguments": [{"_aj": "no_such_type", "v": 1}]})
    elif payload == "missing-key":
        payload = json.dumps({k: v for k, v in template.items() if k != "queue_name"})
    storage.push([_bad("bad-1", payload)])
    good = Note.perform_later("after")

    run_burst(url)

    bad = storage.get("bad-1")
    assert bad is not None and bad.state is JobState.FAILED
    assert bad.error is not None and bad.error.exception_class == error_class
    assert words in bad.error.message
    ok = storage.get(good.job_id)
    assert ok is not None and ok.state is JobState.SUCCEEDED
    assert labels() == ["after"]


def test_burst_with_an_empty_storage_returns(url: str, storage: Storage) -> None:
    run_burst(url, dataclasses.replace(FAST, burst_horizon=0))

    assert labels() == []


def test_a_job_that_came_due_since_the_last_claim_keeps_the_burst_going(
    url: str, storage: Storage
) -> None:
    # The race a slow round trip opens: the last claim ran just before a retry was
    # due, and by the time the burst looks for pending work the job lists as ready.
    from activejob import _time
    from activejob.worker.process import WorkerProcess

    last_claim = _time.now() - 0.1
    storage.push([NewJob("due-now", "tests.worker.jobs.Note", "default", 0, "{}",
                         run_at=last_claim + 0.05)])  # fmt: skip
    worker = WorkerProcess(storage, FAST)
    assert worker._next_due(last_claim) == 0.0


def test_a_rate_window_that_frees_after_the_last_claim_keeps_the_burst_going(
    url: str, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race that ended a documented burst with 7 of 12 jobs left: the last claim
    # found the window full, the window freed, and the listing no longer says the
    # job is held. It is ready, so the burst claims again instead of leaving.
    from activejob import _time
    from activejob.flow.rate import StoredLimit, encode_limits
    from activejob.testing.contract.base import FakeClock
    from activejob.worker.process import RECHECKS, WorkerProcess

    # Whole seconds: a stored time read back is rounded to the microsecond.
    clock = FakeClock(float(int(time.time())))
    monkeypatch.setattr(_time, "now", clock)
    limits = encode_limits([StoredLimit("api", 1, 1.0)])
    storage.push([NewJob(f"r{n}", "tests.worker.jobs.Note", "default", 0, "{}",
                         rate_limits=limits) for n in range(2)])  # fmt: skip
    [first] = storage.claim("w", ["default"], 10)
    storage.complete([Result(first.id, JobState.SUCCEEDED, attempts=first.attempts)])
    last_claim = clock.now
    assert storage.claim("w", ["default"], 10) == []
    held = storage.get("r1")
    assert held is not None and held.rate_limited_until is not None
    clock.advance(1.5)
    assert storage.get("r1").rate_limited_until is None  # type: ignore[union-attr]
    worker = WorkerProcess(storage, FAST)
    assert worker._next_due(last_claim) == 0.0
    # Bounded: after RECHECKS claims that still found nothing, the burst may end.
    assert worker._next_due(last_claim, recheck=False) is None
    assert RECHECKS >= 1
    assert [job.job_id for job in storage.claim("w", ["default"], 10)] == ["r1"]

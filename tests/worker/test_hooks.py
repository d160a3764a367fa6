"""The worker's hooks are events: boot, claim, perform, finish, fail, retry, shutdown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from activejob import events
from activejob.adapters.cache import resolve_adapter
from activejob.storage.base import JobState, Storage
from tests.worker.conftest import run_burst
from tests.worker.jobs import Broken, Flaky, Note

NAMES = (
    "worker_start",
    "worker_claim",
    "perform_start",
    "worker_complete",
    "job_failed",
    "enqueue_retry",
    "worker_stop",
)


@pytest.fixture
def seen() -> Iterator[list[events.Event]]:
    received: list[events.Event] = []
    for name in NAMES:
        events.subscribe(name, received.append)
    yield received
    for name in NAMES:
        events.unsubscribe(name, received.append)


def test_a_burst_emits_every_hook(url: str, storage: Storage, seen: list[events.Event]) -> None:
    ok = Note.perform_later("ok")
    broken = Broken.perform_later("nope")
    flaky = Flaky.perform_later("flaky", 1)

    run_burst(url)

    names = [event.name for event in seen]
    assert names[0] == "worker_start" and names[-1] == "worker_stop"
    worker_ids = {e.extra["worker_id"] for e in seen if e.name.startswith("worker_")}
    assert len(worker_ids) == 1
    claimed = [job.job_id for e in seen if e.name == "worker_claim" for job in e.extra["jobs"]]
    assert sorted(claimed) == sorted([ok.job_id, broken.job_id, flaky.job_id, flaky.job_id])
    recorded = {r.state for e in seen if e.name == "worker_complete" for r in e.extra["results"]}
    assert recorded == {JobState.SUCCEEDED, JobState.FAILED, JobState.SCHEDULED}
    [failed] = [e for e in seen if e.name == "job_failed"]
    assert failed.job is not None and failed.job.job_id == broken.job_id
    assert isinstance(failed.exception, ValueError)
    [retry] = [e for e in seen if e.name == "enqueue_retry"]
    assert retry.job is not None and retry.job.job_id == flaky.job_id
    assert retry.extra["executions"] == 1 and retry.extra["wait"] > 0
    adapter = resolve_adapter(url)
    assert {e.adapter for e in seen if e.name in ("perform_start", "enqueue_retry")} == {adapter}

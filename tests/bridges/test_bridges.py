"""The same jobs through Celery and Dramatiq, each on Redis and on RabbitMQ, run by
that system's own worker in a subprocess (see ``conftest.py``).

Every job appends a line per execution to a ledger, so the counts are exact:
a retry is ours (the foreign task's retries are off), a discard runs once.
"""

from __future__ import annotations

import sys
import uuid

import pytest
from sqlalchemy.orm import Session

import activejob
from activejob import Job
from tests.bridges import jobs
from tests.bridges.support import Bridge
from tests.globalid import e2e_app
from tests.support import wait_for

TIMEOUT = 20.0


def tag() -> str:
    return uuid.uuid4().hex[:12]


class NotInWorkerJob(Job):
    """Defined only here: the worker never imports this test module."""

    def perform(self) -> None:
        raise AssertionError("a worker ran a job class it should not know")


def test_enqueued_job_runs_once(bridge: Bridge) -> None:
    t = tag()
    job = jobs.RecordJob.perform_later(t)
    assert job.successfully_enqueued
    assert job.provider_job_id and job.provider_job_id != job.job_id
    # The foreign system's own kind of id (a random UUID's text), a new one per message.
    assert str(uuid.UUID(job.provider_job_id, version=4)) == job.provider_job_id
    wait_for(lambda: bridge.ledger.lines(t), timeout=TIMEOUT)
    # A later job through the same worker gives the first its chance to run twice.
    later = tag()
    jobs.RecordJob.perform_later(later)
    wait_for(lambda: bridge.ledger.lines(later), timeout=TIMEOUT)
    [line] = bridge.ledger.lines(t)
    assert line["job_id"] == job.job_id
    assert line["executions"] == 1


def test_a_message_with_the_full_payload_runs_too(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bridge sends the compact payload; what an earlier version sent (every key)
    # must still run: this adapter made to send the full form, as it did.
    module = sys.modules[type(bridge.adapter).__module__]
    monkeypatch.setattr(module, "message_payload", lambda job: job.serialize())
    t = tag()
    job = jobs.RecordJob.perform_later(t)
    wait_for(lambda: bridge.ledger.lines(t), timeout=TIMEOUT)
    [line] = bridge.ledger.lines(t)
    assert line["job_id"] == job.job_id


def test_async_job(bridge: Bridge) -> None:
    t = tag()
    jobs.AsyncRecordJob.perform_later(t)
    wait_for(lambda: bridge.ledger.lines(t), timeout=TIMEOUT)


def test_named_queue(bridge: Bridge) -> None:
    t = tag()
    job = jobs.RecordJob.set(queue="low").perform_later(t)
    assert job.queue_name == f"{bridge.prefix}_low"
    wait_for(lambda: bridge.ledger.lines(t), timeout=TIMEOUT)
    assert bridge.ledger.lines(t)[0]["queue"] == f"{bridge.prefix}_low"


def test_scheduled_job_runs_after_its_time(bridge: Bridge) -> None:
    t = tag()
    job = jobs.RecordJob.set(wait=1.5).perform_later(t)
    assert job.scheduled_at is not None
    due = job.scheduled_at.timestamp()
    wait_for(lambda: bridge.ledger.lines(t), timeout=TIMEOUT)
    [line] = bridge.ledger.lines(t)
    assert line["at"] >= due - 0.05  # clock read in another process, same machine


def test_bulk_enqueue(bridge: Bridge) -> None:
    t = tag()
    batch = [jobs.RecordJob(f"{t}-{i}") for i in range(20)]
    assert activejob.perform_all_later(batch) == 20
    assert all(j.successfully_enqueued and j.provider_job_id for j in batch)
    assert len({j.provider_job_id for j in batch}) == 20
    wait_for(lambda: all(bridge.ledger.lines(f"{t}-{i}") for i in range(20)), timeout=TIMEOUT)


def test_retry_on_goes_through_the_bridge_and_counts_exactly(bridge: Bridge) -> None:
    t = tag()
    job = jobs.FlakyJob.perform_later(t, 2)
    wait_for(lambda: len(bridge.ledger.lines(t)) >= 3, timeout=TIMEOUT)
    # A later job on the same worker gives a duplicate its chance to show.
    follow = tag()
    jobs.RecordJob.perform_later(follow)
    wait_for(lambda: bridge.ledger.lines(follow), timeout=TIMEOUT)
    lines = bridge.ledger.lines(t)
    assert [line["executions"] for line in lines] == [1, 2, 3]
    assert {line["job_id"] for line in lines} == {job.job_id}
    assert not bridge.failure_recorded(t)


def test_exhausted_retries_fail_once_in_the_foreign_system(bridge: Bridge) -> None:
    t = tag()
    jobs.AlwaysFailsJob.perform_later(t)
    wait_for(lambda: bridge.failure_recorded(t), timeout=TIMEOUT)
    # Recorded as failed (Celery: the failure line; Dramatiq: the dead-letter
    # queue, where Retries puts a message it will not retry): two executions, ours.
    assert [line["executions"] for line in bridge.ledger.lines(t)] == [1, 2]


def test_discard_on(bridge: Bridge) -> None:
    t = tag()
    jobs.DiscardJob.perform_later(t)
    wait_for(lambda: bridge.ledger.lines(t, "discarded"), timeout=TIMEOUT)
    assert len(bridge.ledger.lines(t)) == 1
    assert not bridge.failure_recorded(t)


def test_globalid_argument(bridge: Bridge) -> None:
    engine = e2e_app.connect(f"sqlite:///{bridge.gid_out.parent / 'records.sqlite3'}")
    name = f"member-{tag()}"
    with Session(engine, expire_on_commit=False) as session:
        member = e2e_app.Member(name=name)
        session.add(member)
        session.commit()
    job = e2e_app.WelcomeJob.perform_later(member)
    assert job.serialize()["arguments"][0]["v"].startswith("gid://")
    wait_for(lambda: bridge.gid_out.exists() and f"welcome {name}" in bridge.gid_out.read_text(),
             timeout=TIMEOUT)  # fmt: skip
    engine.dispose()


def test_unknown_class_is_a_recorded_failure_and_the_worker_lives(bridge: Bridge) -> None:
    job = NotInWorkerJob.perform_later()
    assert job.successfully_enqueued
    wait_for(lambda: bridge.failure_recorded(NotInWorkerJob.job_class_name), timeout=TIMEOUT)
    if bridge.name.startswith("celery"):
        app = bridge.adapter.app  # type: ignore[attr-defined]
        wait_for(lambda: app.AsyncResult(job.provider_job_id).state == "FAILURE", timeout=TIMEOUT)
    assert bridge.worker.alive
    # Dramatiq's worker processes log through a pipe to its main process, which may
    # write the line after the dead letter is stored: wait for it, don't race it.
    wait_for(lambda: "unknown job class" in bridge.worker.text(), timeout=TIMEOUT)
    t = tag()
    jobs.RecordJob.perform_later(t)
    wait_for(lambda: bridge.ledger.lines(t), timeout=TIMEOUT)

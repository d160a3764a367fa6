"""The RQ bridge against RQ's real worker (``rq worker --with-scheduler``) on Redis db 11.

One worker for the module; every test uses its own tag in the shared ledger, so a
count of ledger lines is a count of executions.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytest.importorskip("rq")

from redis import Redis
from rq import Queue
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

import activejob
from activejob.adapters.rq import PERFORM, RQAdapter
from activejob.errors import EnqueueError
from activejob.job.core import compact_payload
from tests.bridges.rq_counted_jobs import CountedJob
from tests.bridges.rq_huey_jobs import FlakyJob, GoneJob, LedgerJob, lines
from tests.bridges.subprocess_worker import BIN, ROOT, WorkerProcess, redis_db_url
from tests.support import wait_for

DB = 11
QUEUES = ("default", "aj_rq_other")


@dataclass
class RQSetup:
    url: str
    redis: Redis
    ledger: Path
    records: str
    worker: WorkerProcess

    def rows(self, tag: str) -> list[list[str]]:
        return lines(self.ledger, tag)

    def fetch(self, job_id: str) -> RQJob:
        return RQJob.fetch(job_id, connection=self.redis, serializer=JSONSerializer)


@pytest.fixture(scope="module")
def rq_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RQSetup]:
    url = redis_db_url(DB)
    redis = Redis.from_url(url)
    redis.flushdb()
    tmp = tmp_path_factory.mktemp("rq")
    ledger = tmp / "ledger.txt"
    records = f"sqlite:///{tmp / 'records.sqlite3'}"
    command = [
        str(BIN / "rq"), "worker", "--with-scheduler",
        "--serializer", "rq.serializers.JSONSerializer", "-u", url, *QUEUES,
    ]  # fmt: skip
    env = {
        "ACTIVEJOB_ADAPTER": f"rq:{url}",
        "ACTIVEJOB_IMPORTS": "tests.bridges.rq_huey_jobs,tests.globalid.e2e_app",
        "AJ_BRIDGE_LEDGER": str(ledger),
        "AJ_GID_RECORDS_URL": records,
        "AJ_GID_OUT": str(ledger),
    }
    worker = WorkerProcess(command, env, tmp / "worker.log")
    try:
        yield RQSetup(url, redis, ledger, records, worker)
    finally:
        worker.stop()
        redis.flushdb()
        redis.close()


@pytest.fixture
def rq(rq_setup: RQSetup) -> RQSetup:
    activejob.configure(adapter=f"rq:{rq_setup.url}")
    return rq_setup


def tag() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def test_a_job_runs_once_in_the_rq_worker(rq: RQSetup) -> None:
    name = tag()
    job = LedgerJob.perform_later(name)
    assert job.successfully_enqueued
    assert str(uuid.UUID(job.provider_job_id, version=4)) == job.provider_job_id  # RQ's kind
    wait_for(lambda: rq.fetch(job.provider_job_id).get_status() == JobStatus.FINISHED, 20)
    assert [row[1] for row in rq.rows(name)] == ["ran"]
    rq_job = rq.fetch(job.provider_job_id)
    assert rq_job.func_name == PERFORM
    assert rq_job.origin == "default"
    assert rq_job.retries_left is None  # RQ's own retry is never set


@pytest.mark.parametrize("prepared", [False, True], ids=["imports-only", "prepare_worker"])
def test_prepare_worker_imports_the_job_modules_once_for_every_work_horse(
    rq: RQSetup, prepared: bool, tmp_path: Path
) -> None:
    log = tmp_path / "imports.log"
    jobs = [CountedJob.set(queue="aj_rq_forks").perform_later() for _ in range(3)]
    settings = ["-c", "tests.bridges.rq_settings"] if prepared else []
    command = [
        str(BIN / "rq"), "worker", "--burst", *settings,
        "--serializer", "rq.serializers.JSONSerializer", "-u", rq.url, "aj_rq_forks",
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ACTIVEJOB_ADAPTER": f"rq:{rq.url}",
        "ACTIVEJOB_IMPORTS": "tests.bridges.rq_counted_jobs",
        "AJ_RQ_IMPORTS_LOG": str(log),
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(rq.fetch(j.provider_job_id).get_status() == JobStatus.FINISHED for j in jobs)
    words = [line.split() for line in log.read_text().splitlines()]
    ran = {pid for what, pid in words if what == "ran"}
    imported = [pid for what, pid in words if what == "imported"]
    assert len(ran) == 3  # RQ's default worker: one work horse (fork) per job
    if prepared:
        assert len(imported) == 1 and imported[0] not in ran  # once, in the main process
    else:
        assert sorted(imported) == sorted(ran)  # again in every work horse


def test_queue_maps_to_the_rq_queue(rq: RQSetup) -> None:
    name = tag()
    job = LedgerJob.set(queue="aj_rq_other").perform_later(name)
    assert rq.fetch(job.provider_job_id).origin == "aj_rq_other"
    wait_for(lambda: rq.rows(name), 20)


def test_the_payload_is_stored_as_json_not_pickle(rq: RQSetup) -> None:
    job = LedgerJob.set(wait=3600).perform_later(tag())
    raw = rq.redis.hget(f"rq:job:{job.provider_job_id}", "data")
    assert raw is not None
    # zlib-compressed JSON: [func, instance, args, kwargs]
    import json
    import zlib

    data = json.loads(zlib.decompress(raw))
    assert data[0] == PERFORM
    # The compact form: keys at their defaults (executions 0, no priority) left out.
    assert data[2] == [compact_payload({**job.serialize(), "provider_job_id": None})]
    assert "executions" not in data[2][0] and "priority" not in data[2][0]
    assert data[2][0]["scheduled_at"] == job.serialize()["scheduled_at"]


def test_a_message_with_the_full_payload_runs_too(rq: RQSetup) -> None:
    # What an earlier version sent (every key of the payload): still read.
    payload = LedgerJob(tag()).serialize()
    queue = Queue("default", connection=rq.redis, serializer=JSONSerializer)
    rq_job = queue.enqueue_call(PERFORM, args=(payload,))
    wait_for(lambda: rq.fetch(rq_job.id).get_status() == JobStatus.FINISHED, 20)
    assert [row[1] for row in rq.rows(payload["arguments"][0])] == ["ran"]


def test_a_scheduled_job_runs_after_its_time(rq: RQSetup) -> None:
    name = tag()
    asked = time.time() + 1.5
    job = LedgerJob.set(wait_until=datetime.fromtimestamp(asked, timezone.utc)).perform_later(name)
    assert rq.fetch(job.provider_job_id).get_status() == JobStatus.SCHEDULED
    wait_for(lambda: rq.rows(name), 20)
    (row,) = rq.rows(name)
    assert float(row[2]) >= asked


def test_retry_on_goes_back_through_rq_and_counts_exactly(rq: RQSetup) -> None:
    name = tag()
    FlakyJob.perform_later(name, 2)
    wait_for(lambda: len(rq.rows(name)) >= 3, 20)
    # A job that succeeds on its third execution: three runs, no RQ retry on top.
    last = LedgerJob.perform_later(f"{name}-after")
    wait_for(lambda: rq.fetch(last.provider_job_id).get_status() == JobStatus.FINISHED, 20)
    assert [row[1] for row in rq.rows(name)] == ["try1", "try2", "try3"]


def test_retries_exhausted_fail_once_in_rq(rq: RQSetup) -> None:
    name = tag()
    FlakyJob.perform_later(name, 10)
    registry = FailedJobRegistry("default", connection=rq.redis, serializer=JSONSerializer)

    def failed() -> list[RQJob]:
        jobs = [rq.fetch(i) for i in registry.get_job_ids()]
        return [j for j in jobs if j.args[0]["arguments"][0] == name]

    wait_for(failed, 20)
    (rq_job,) = failed()
    assert "Flaky" in (rq_job.latest_result().exc_string or "")
    assert [row[1] for row in rq.rows(name)] == ["try1", "try2", "try3"]


def test_discard_on_ends_the_rq_job_as_finished(rq: RQSetup) -> None:
    name = tag()
    job = GoneJob.perform_later(name)
    wait_for(lambda: rq.fetch(job.provider_job_id).get_status() == JobStatus.FINISHED, 20)
    assert [row[1] for row in rq.rows(name)] == ["gone"]


def test_a_globalid_argument_is_loaded_in_the_worker(rq: RQSetup) -> None:
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from tests.globalid import e2e_app

    engine = e2e_app.connect(rq.records)
    try:
        here, gone = tag(), tag()
        with Session(engine, expire_on_commit=False) as session:
            members = [e2e_app.Member(name=here), e2e_app.Member(name=gone)]
            session.add_all(members)
            session.commit()
        welcome = e2e_app.WelcomeJob.perform_later(members[0])
        assert welcome.serialize()["arguments"][0]["v"].startswith("gid://")
        with engine.begin() as connection:
            connection.execute(delete(e2e_app.Member).where(e2e_app.Member.id == members[1].id))
        dropped = e2e_app.WelcomeJob.perform_later(members[1])
        for job in (welcome, dropped):
            wait_for(lambda j=job: rq.fetch(j.provider_job_id).get_status() == "finished", 20)
        words = [line.split()[:2] for line in rq.ledger.read_text().splitlines()]
        assert ["welcome", here] in words
        assert ["welcome", gone] not in words  # discarded: RecordNotFound, finished in RQ
    finally:
        engine.dispose()


def test_an_unknown_class_fails_in_rq_and_the_worker_goes_on(rq: RQSetup) -> None:
    payload = LedgerJob(tag()).serialize()
    payload["job_class"] = "tests.bridges.nowhere.MissingJob"
    queue = Queue("default", connection=rq.redis, serializer=JSONSerializer)
    rq_job = queue.enqueue_call(PERFORM, args=(payload,))
    registry = FailedJobRegistry("default", connection=rq.redis, serializer=JSONSerializer)
    wait_for(lambda: rq_job.id in registry.get_job_ids(), 20)
    failure = rq.fetch(rq_job.id).latest_result()
    assert failure is not None
    assert "unknown job class 'tests.bridges.nowhere.MissingJob'" in (failure.exc_string or "")
    assert "name it in ACTIVEJOB_IMPORTS" in (failure.exc_string or "")
    assert not rq.rows(payload["arguments"][0])
    name = tag()
    LedgerJob.perform_later(name)
    wait_for(lambda: rq.rows(name), 20)
    assert rq.worker.alive()


def test_perform_all_later_is_one_pipelined_enqueue(rq: RQSetup) -> None:
    names = [tag() for _ in range(3)]
    jobs = [LedgerJob(n) for n in names]
    jobs[2].set(wait=0.5)
    jobs[1].set(queue="aj_rq_other")
    assert activejob.perform_all_later(jobs) == 3
    assert [rq.fetch(j.provider_job_id).origin for j in jobs] == [
        "default",
        "aj_rq_other",
        "default",
    ]
    wait_for(lambda: all(rq.rows(n) for n in names), 20)
    assert [len(rq.rows(n)) for n in names] == [1, 1, 1]


def test_a_priority_is_refused() -> None:
    activejob.configure(adapter="rq:redis://127.0.0.1:6379/11")
    with pytest.raises(EnqueueError, match="cannot honour priorities"):
        LedgerJob.set(priority=1).perform_later("never")


def test_the_url_names_the_redis_and_takes_a_job_timeout() -> None:
    adapter = RQAdapter.from_url("rq:redis://127.0.0.1:6379/11?job_timeout=600")
    assert adapter.job_timeout == 600
    assert str(adapter) == "rq adapter (127.0.0.1:6379/11)"
    with pytest.raises(activejob.ConfigurationError, match="rq:redis://localhost"):
        RQAdapter.from_url("rq:localhost")


def test_a_worker_left_on_pickle_fails_the_jobs_and_a_requeue_recovers_them(rq: RQSetup) -> None:
    name = tag()
    job = LedgerJob.set(queue="aj_rq_pickle").perform_later(name)
    # As the docs say: a worker without --serializer cannot read the JSON jobs.
    subprocess.run(
        [str(BIN / "rq"), "worker", "--burst", "-u", rq.url, "aj_rq_pickle"],
        cwd=ROOT,
        env={**os.environ, "ACTIVEJOB_IMPORTS": "tests.bridges.rq_huey_jobs"},
        capture_output=True,
        timeout=60,
        check=True,
    )
    registry = FailedJobRegistry("aj_rq_pickle", connection=rq.redis, serializer=JSONSerializer)
    assert registry.get_job_ids() == [job.provider_job_id]
    assert not rq.rows(name)
    # Nothing lost: requeued as the docs say, a JSON worker runs it.
    json_flags = ["--serializer", "rq.serializers.JSONSerializer", "-u", rq.url]
    for command in (
        ["requeue", "--all", "--queue", "aj_rq_pickle"],
        ["worker", "--burst", "aj_rq_pickle"],
    ):
        subprocess.run(
            [str(BIN / "rq"), *command, *json_flags],
            cwd=ROOT,
            env={
                **os.environ,
                "ACTIVEJOB_ADAPTER": f"rq:{rq.url}",
                "ACTIVEJOB_IMPORTS": "tests.bridges.rq_huey_jobs",
                "AJ_BRIDGE_LEDGER": str(rq.ledger),
            },
            capture_output=True,
            timeout=60,
            check=True,
        )
    assert [row[1] for row in rq.rows(name)] == ["ran"]

"""End to end through a real backend: jobs taking a SQLAlchemy record are enqueued to
SQLite storage and run by the worker. A record deleted before the run discards the
job; a records database that cannot be reached fails or retries it, never drops it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.globalid.support import Outage, PgOutage, SqliteLock, need, pg_database

need("sqlalchemy")

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import activejob  # noqa: E402
import activejob.globalid.sqlalchemy  # noqa: E402
from activejob import events  # noqa: E402
from activejob.adapters.durable import storage_of  # noqa: E402
from activejob.storage.base import JobFilter, JobInfo, JobState, Storage  # noqa: E402
from activejob.worker import Worker, WorkerOptions  # noqa: E402
from tests.globalid import e2e_app  # noqa: E402
from tests.globalid.e2e_app import Member, SyncJob, WelcomeJob  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FAST = WorkerOptions(
    threads=2,
    poll_interval=0.05,
    heartbeat_interval=0.2,
    recover_after=2.0,
    shutdown_timeout=5.0,
    burst_horizon=1.0,
)


@dataclass
class Backend:
    url: str
    storage: Storage

    def info(self, job_id: str) -> JobInfo:
        found = self.storage.get(job_id)
        assert found is not None
        return found


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    storage.migrate()
    return Backend(url, storage)


@dataclass
class Records:
    url: str
    engine: Engine
    outage: type[Outage] | None = None
    outage_target: str = ""

    def add(self, *names: str) -> list[Member]:
        members = [Member(name=name) for name in names]
        with Session(self.engine, expire_on_commit=False) as session:
            session.add_all(members)
            session.commit()
        return members

    def delete(self, member: Member) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("DELETE FROM e2e_members WHERE id = :id"), {"id": member.id})

    def down(self) -> Outage:
        assert self.outage is not None
        return self.outage(self.outage_target)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with pg_database("aj_gid_e2e") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Records]:
    e2e_app.RUNS.clear()
    if request.param == "sqlite":
        path = tmp_path / "records.sqlite3"
        url = f"sqlite:///{path}"
        found = Records(url, e2e_app.connect(url), SqliteLock, str(path))
    else:
        plain = request.getfixturevalue("pg_url")
        url = plain.replace("postgresql://", "postgresql+psycopg://", 1)
        found = Records(url, e2e_app.connect(url), PgOutage, plain)
    try:
        yield found
    finally:
        activejob.globalid.sqlalchemy.unconfigure()
        e2e_app.Base.metadata.drop_all(found.engine)
        found.engine.dispose()


def run_burst(backend: Backend, timeout: float = 30.0) -> None:
    """Run a burst worker to its end, in a thread so that a hang fails the test."""
    errors: list[BaseException] = []
    worker = Worker(backend.url, options=FAST)

    def target() -> None:
        try:
            worker.run(burst=True)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        worker.stop()
        raise AssertionError(f"the worker did not return within {timeout}s")
    if errors:
        raise errors[0]


def test_a_record_deleted_before_the_run_discards_the_job(
    backend: Backend, records: Records
) -> None:
    ann, bob = records.add("ann", "bob")
    gone = WelcomeJob.perform_later(ann)
    kept = WelcomeJob.perform_later(bob)
    records.delete(ann)

    run_burst(backend)

    info = backend.info(gone.job_id)
    assert info.state is JobState.DISCARDED
    assert info.error is not None
    assert info.error.exception_class == "activejob.errors.RecordNotFound"
    assert f"/tests.globalid.e2e_app.Member/{ann.id}" in info.error.message
    assert backend.info(kept.job_id).state is JobState.SUCCEEDED
    assert e2e_app.RUNS == ["welcome bob"]


def test_an_unreachable_database_fails_the_job_it_is_not_discarded(
    backend: Backend, records: Records
) -> None:
    (ann,) = records.add("ann")
    job = WelcomeJob.perform_later(ann)

    with records.down():
        run_burst(backend)

    info = backend.info(job.job_id)
    assert info.state is JobState.FAILED
    assert info.error is not None
    assert info.error.exception_class == "sqlalchemy.exc.OperationalError"
    assert e2e_app.RUNS == []
    # Kept with its payload: once the database is back, retrying it runs it.
    assert backend.storage.retry(JobFilter(job_ids=[job.job_id])) == 1
    run_burst(backend)
    assert backend.info(job.job_id).state is JobState.SUCCEEDED
    assert e2e_app.RUNS == ["welcome ann"]


def test_retry_on_rides_out_an_outage(backend: Backend, records: Records) -> None:
    (ann,) = records.add("ann")
    job = SyncJob.perform_later(ann)
    outage = records.down()

    def back_up(event: events.Event) -> None:
        outage.end()  # the database comes back once the job has been rescheduled

    events.subscribe("enqueue_retry", back_up)
    try:
        with outage:
            run_burst(backend)
    finally:
        events.unsubscribe("enqueue_retry", back_up)

    info = backend.info(job.job_id)
    assert info.state is JobState.SUCCEEDED
    assert info.attempts == 2
    assert info.payload["exception_executions"] == {"[sqlalchemy.exc.OperationalError]": 1}
    assert e2e_app.RUNS == ["sync ann"]


def test_the_worker_cli_loads_records_in_its_own_process(backend: Backend, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    records = Records(url, e2e_app.connect(url))
    try:
        ann, bob = records.add("ann", "bob")
        gone = WelcomeJob.perform_later(ann)
        kept = WelcomeJob.perform_later(bob)
        records.delete(ann)
        out = tmp_path / "runs.txt"
        path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path, "AJ_GID_RECORDS_URL": url, "AJ_GID_OUT": str(out)}
        command = [sys.executable, "-m", "activejob", "worker", "--burst"]
        command += ["--adapter", backend.url, "--import", "tests.globalid.e2e_app"]
        command += ["--poll-interval", "0.05", "--burst-horizon", "1"]
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert out.read_text() == "welcome bob\n"
        assert backend.info(gone.job_id).state is JobState.DISCARDED
        assert backend.info(kept.job_id).state is JobState.SUCCEEDED
    finally:
        activejob.globalid.sqlalchemy.unconfigure()
        records.engine.dispose()

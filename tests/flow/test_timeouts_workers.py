"""Timeouts and cancellation end to end: a real supervisor with **two worker
processes** (``python -m activejob worker --processes 2``) on each backend
(SQLite, PostgreSQL, MariaDB, Redis), jobs noting what they do in a ledger file.

Covered: an ``async def`` job past its timeout is cancelled and fails with
``JobTimeout``; a sync job meets it at ``checkpoint()``; ``retry_on(JobTimeout)``
retries; a sync job that never checks is recorded as timed out and its process is
replaced once its other jobs finish, none lost; ``activejob jobs cancel`` of a
waiting job, of running sync and async jobs, of an unknown id; kill -9 of the
process running a job being cancelled.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import activejob
from activejob.storage.base import JobInfo, JobState
from tests.acceptance.cli_backends import Backend, backend, mysql_cli_database, pg_cli_database
from tests.acceptance.test_cli_jobs import activejob_cli
from tests.acceptance.test_worker_cli import CLI
from tests.flow.timeout_jobs import (
    AsyncHold,
    AsyncSleeper,
    CheckedHold,
    CheckingLoop,
    Hold,
    NeverChecks,
    RetriedTimeout,
    Work,
    events,
    pid_of,
)
from tests.support import wait_for

__all__ = ["backend", "mysql_cli_database", "pg_cli_database"]  # fixtures, used by name

TIMEOUT = "activejob.errors.JobTimeout"
CANCELLED = "activejob.errors.JobCancelled"


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    return str(tmp_path / "ledger.txt")


@pytest.fixture
def supervisor(backend: Backend, tmp_path: Path) -> Iterator[CLI]:
    activejob.configure(adapter=backend.url)
    cli = CLI(
        tmp_path, backend.url,
        "--import", "tests.flow.timeout_jobs",
        "--processes", "2", "--threads", "2",
        "--timeout-grace", "0.5",
        "--log-level", "info",
    )  # fmt: skip
    cli.wait_for_output("started worker process", count=2, timeout=30)
    try:
        yield cli
    finally:
        if cli.proc.poll() is None:
            cli.proc.send_signal(signal.SIGTERM)
            try:
                cli.proc.wait(30)
            except Exception:
                cli.proc.kill()
                cli.proc.wait(5)


def ended(backend: Backend, job_id: str, timeout: float = 20.0) -> JobInfo:
    """The job once it has finished (failed, succeeded or discarded)."""

    def finished() -> bool:
        info = backend.storage.get(job_id)
        return info is not None and info.state.finished

    wait_for(finished, timeout=timeout)
    info = backend.storage.get(job_id)
    assert info is not None
    return info


def error_class(info: JobInfo) -> str | None:
    return None if info.error is None else info.error.exception_class


def test_jobs_past_their_timeout_fail_with_job_timeout(
    backend: Backend, supervisor: CLI, ledger: str
) -> None:
    async_job = AsyncSleeper.perform_later(ledger, "async")
    sync_job = CheckingLoop.perform_later(ledger, "sync")
    retried = RetriedTimeout.perform_later(ledger, "retried")
    for job in (async_job, sync_job):
        info = ended(backend, job.job_id)
        assert (info.state, error_class(info)) == (JobState.FAILED, TIMEOUT), info
        assert info.started_at is not None and info.finished_at is not None
        # Cancelled at the deadline (0.5 s), well before the job's own 60 s.
        assert (info.finished_at - info.started_at).total_seconds() < 5
    info = ended(backend, retried.job_id)
    assert info.state is JobState.SUCCEEDED, info
    assert events(ledger, "retried") == ["run1", "run2", "end"]
    assert events(ledger, "async") == ["start"] and events(ledger, "sync") == ["start"]
    assert "Timed out tests.flow.timeout_jobs.AsyncSleeper" in supervisor.text()


def test_a_job_that_never_checks_is_recorded_and_its_process_replaced(
    backend: Backend, supervisor: CLI, ledger: str, tmp_path: Path
) -> None:
    release = str(tmp_path / "release")
    stuck = NeverChecks.perform_later(ledger, "stuck", release)
    wait_for(lambda: events(ledger, "stuck") == ["start"], timeout=20)
    others = [Work.perform_later(ledger, f"work{n}", 0.3) for n in range(8)]
    info = ended(backend, stuck.job_id)
    assert (info.state, error_class(info)) == (JobState.FAILED, TIMEOUT), info
    supervisor.wait_for_output("exited to be replaced", timeout=30)
    supervisor.wait_for_output("started worker process", count=3, timeout=30)
    for job in others:
        assert ended(backend, job.job_id).state is JobState.SUCCEEDED
    # Nothing lost and nothing run twice; the stuck thread never got to finish.
    assert all(events(ledger, f"work{n}") == ["start", "done"] for n in range(8))
    assert events(ledger, "stuck") == ["start"]
    # The fresh process works.
    after = Work.perform_later(ledger, "after")
    assert ended(backend, after.job_id).state is JobState.SUCCEEDED
    assert supervisor.proc.poll() is None


def cancel_cli(backend: Backend, job_id: str) -> tuple[int, dict[str, str] | str]:
    done = activejob_cli("jobs", "cancel", job_id, "--json", "--adapter", backend.url)
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        return done.returncode, done.stderr


def test_cancel_of_waiting_and_running_jobs(
    backend: Backend, supervisor: CLI, ledger: str, tmp_path: Path
) -> None:
    release = str(tmp_path / "release")
    later = Work.set(wait=3600).perform_later(ledger, "later")
    sync_job = CheckedHold.perform_later(ledger, "sync", release)
    async_job = AsyncHold.perform_later(ledger, "async", release)
    assert cancel_cli(backend, later.job_id) == (
        0,
        {"job_id": later.job_id, "outcome": "discarded", "state": "scheduled"},
    )
    info = ended(backend, later.job_id, timeout=1)
    assert (info.state, error_class(info)) == (JobState.DISCARDED, CANCELLED)
    wait_for(lambda: events(ledger, "sync") == events(ledger, "async") == ["start"], timeout=20)
    for job in (sync_job, async_job):
        asked = time.monotonic()
        code, reply = cancel_cli(backend, job.job_id)
        assert (code, reply) == (
            0,
            {"job_id": job.job_id, "outcome": "requested", "state": "running"},
        )
        info = ended(backend, job.job_id, timeout=20)
        assert (info.state, error_class(info)) == (JobState.DISCARDED, CANCELLED), info
        # PostgreSQL and Redis wake the worker at once; SQLite and MariaDB look at
        # least every heartbeat interval (0.2 s here).
        assert time.monotonic() - asked < 10
    assert events(ledger, "sync") == events(ledger, "async") == ["start"]
    assert events(ledger, "later") == []
    # Cancelling a finished job changes nothing; an unknown id is a usage error.
    code, _ = cancel_cli(backend, sync_job.job_id)
    assert code == 1
    code, message = cancel_cli(backend, "0" * 32)
    assert code == 2 and "no job with id" in str(message)


def test_kill_9_of_the_process_running_a_job_being_cancelled(
    backend: Backend, supervisor: CLI, ledger: str, tmp_path: Path
) -> None:
    release = str(tmp_path / "release")
    held = Hold.perform_later(ledger, "held", release)
    wait_for(lambda: events(ledger, "held") == ["start"], timeout=20)
    assert cancel_cli(backend, held.job_id)[1] == {
        "job_id": held.job_id,
        "outcome": "requested",
        "state": "running",
    }
    os.kill(pid_of(ledger, "held"), signal.SIGKILL)
    info = ended(backend, held.job_id, timeout=30)
    assert (info.state, error_class(info)) == (JobState.DISCARDED, CANCELLED), info
    supervisor.wait_for_output("started worker process", count=3, timeout=30)
    after = Work.perform_later(ledger, "after")
    assert ended(backend, after.job_id).state is JobState.SUCCEEDED
    assert events(ledger, "held") == ["start"]  # never ran again
    assert supervisor.proc.poll() is None

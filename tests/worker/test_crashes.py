"""A job that kills its worker process fails alone: the jobs claimed with it in the
same batch, which had not started, run again with no crash counted.

The real command (``activejob worker``: a supervisor and a worker process) on every
backend, its real server; the poison job ends its process with ``os._exit``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import activejob
from activejob.adapters.cache import reset_adapters
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobState, Storage
from tests.backends.redis_support import delete_prefix, unique_prefix, with_params
from tests.services import service_url
from tests.support import job_state, wait_for
from tests.worker.jobs import AppendLine, ExitsItsWorker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated backend of each kind, configured as the default adapter."""
    if request.param == "sqlite":
        yield from _configured(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    elif request.param == "postgresql":
        yield from _postgresql(service_url("postgresql"))
    elif request.param == "mysql":
        from tests.backends.conftest import mysql_private_database

        name = f"activejob_crash_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with mysql_private_database(service_url("mysql"), name) as address:
            yield from _configured(address)
    else:
        server, prefix = service_url("redis"), unique_prefix()
        try:
            yield from _configured(with_params(server, prefix=prefix))
        finally:
            delete_prefix(server, prefix)


def _postgresql(server: str) -> Iterator[str]:
    import psycopg

    name = f"activejob_crash_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield from _configured(urlunsplit(urlsplit(server)._replace(path=f"/{name}")))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _configured(address: str) -> Iterator[str]:
    storage: Storage = storage_of(address)
    storage.migrate()
    activejob.configure(adapter=address)
    try:
        yield address
    finally:
        reset_adapters(wait=True)  # its connections closed before the data goes


@pytest.fixture
def storage(url: str) -> Storage:
    built: Storage = storage_of(url)
    return built


def worker(tmp_path: Path, url: str, *flags: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "activejob", "worker",
        "--adapter", url,
        "--import", "tests.worker.jobs",
        "--poll-interval", "0.05",
        "--heartbeat-interval", "0.2",
        *flags,
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    with (tmp_path / "worker.out").open("w") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_job_that_exits_its_process_fails_alone(
    tmp_path: Path, url: str, storage: Storage
) -> None:
    log = tmp_path / "runs.log"
    # Smaller priority first: the one thread starts the poison job, and the good jobs
    # wait, claimed in the same batch (the prefetch holds them all), unstarted.
    poison = ExitsItsWorker.set(priority=0).perform_later(log)
    good = [AppendLine.set(priority=5).perform_later(log, f"good{n}") for n in range(4)]
    flags = ("--threads", "1", "--prefetch", "10", "--max-crashes", "1")
    # Short, as in the other worker tests: the replacement process recovers its dead
    # predecessor precisely before any heartbeat recovery could count crashes.
    proc = worker(tmp_path, url, *flags, "--recover-after", "1")
    output = tmp_path / "worker.out"
    try:
        wait_for(lambda: all(_finished(storage, job.job_id) for job in [poison, *good]), timeout=40)
    except AssertionError:
        states = {job.job_id: job_state(storage, job.job_id) for job in [poison, *good]}
        raise AssertionError(f"{states}\n{output.read_text()}") from None
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(20)

    info = storage.get(poison.job_id)
    assert info is not None and info.state is JobState.FAILED, output.read_text()
    assert info.error is not None
    assert info.error.exception_class == "activejob.storage.base.WorkerLostError"
    assert info.crashes == 2  # died, ran again, died again: past --max-crashes 1
    assert [job_state(storage, job.job_id) for job in good] == [JobState.SUCCEEDED] * 4
    runs = Counter(line.split()[0] for line in lines(log))
    assert runs == {"poison": 2, **{f"good{n}": 1 for n in range(4)}}
    for job in good:
        kept = storage.get(job.job_id)
        assert kept is not None
        # Claimed with the poison job by both processes it killed, then run by a third.
        assert (kept.crashes, kept.attempts) == (0, 3)
    assert status == 0, output.read_text()


def _finished(storage: Storage, job_id: str) -> bool:
    state = job_state(storage, job_id)
    return state is not None and state.finished


@pytest.mark.parametrize("url", ["sqlite"], indirect=True)  # the supervisor's own rule
def test_poison_jobs_cannot_make_the_supervisor_give_up(
    tmp_path: Path, url: str, storage: Storage
) -> None:
    log = tmp_path / "runs.log"
    # Three poison jobs, each killing its process three times (past --max-crashes 2):
    # nine deaths, more than the five within a minute after which a supervisor gives
    # up on a process that dies by itself.
    poison = [ExitsItsWorker.set(priority=0).perform_later(log) for _ in range(3)]
    good = AppendLine.set(priority=5).perform_later(log, "good")
    flags = ("--threads", "1", "--prefetch", "1", "--max-crashes", "2")
    proc = worker(tmp_path, url, *flags, "--recover-after", "1")
    output = tmp_path / "worker.out"
    try:
        wait_for(lambda: all(_finished(storage, job.job_id) for job in [*poison, good]), timeout=60)
    except AssertionError:
        raise AssertionError(output.read_text()) from None
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(20)

    assert [job_state(storage, job.job_id) for job in poison] == [JobState.FAILED] * 3
    assert job_state(storage, good.job_id) is JobState.SUCCEEDED
    assert "giving up" not in output.read_text()
    assert "while running jobs (each charged a crash)" in output.read_text()
    assert status == 0, output.read_text()

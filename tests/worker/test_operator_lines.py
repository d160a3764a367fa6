"""What the worker tells the operator (``activejob.Worker`` in this process): the start
line, the drain, the counts that end a burst, and one clear error for a setting no
retry can fix."""

from __future__ import annotations

import dataclasses
import logging
import threading
import uuid
from pathlib import Path

import pytest

import activejob
from activejob import ConfigurationError, EnqueueError, Worker
from activejob.storage.redis.storage import RedisStorage
from activejob.storage.sql.mysql.storage import MySQLStorage
from activejob.storage.sql.postgresql.storage import PostgreSQLStorage
from activejob.worker.outcomes import Tally
from tests.support import wait_for
from tests.worker.conftest import FAST, Background, start_worker
from tests.worker.jobs import GATES, Broken, Flaky, Gated, Note, labels
from tests.worker.operator_support import BAD_SETTINGS, Discards, bad_url, free_port

LOGGER = "activejob.worker"


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_the_start_line_names_backend_queues_imports_processes_and_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    monkeypatch.chdir(tmp_path)
    worker = Worker(
        "sqlite:///jobs.sqlite3",  # relative: the line names the file it resolves to
        queues="critical,default",
        threads=3,
        imports=["tests.worker.jobs"],
        options=FAST,
    )
    background = Background(worker, burst=True)
    background.thread.start()
    background.join()

    (line,) = [m for m in messages(caplog) if " started: " in m]
    assert line == (
        f"worker {worker.worker_id} started: backend sqlite:///{tmp_path / 'jobs.sqlite3'}, "
        f"queues critical,default, imports tests.worker.jobs, 1 process, 3 threads, "
        f"{FAST.async_concurrency} async slots"
    )


def test_backends_describe_themselves_with_the_password_masked() -> None:
    redis = RedisStorage("redis://:s3cret@127.0.0.1:6379/0?prefix=myapp")
    postgresql = PostgreSQLStorage.from_url(
        "postgresql://app:s3cret@127.0.0.1:5432/app?listen=false"
    )
    mysql = MySQLStorage.from_url("mariadb://app:s3cret@127.0.0.1:3307/app?pool_size=2")
    socket = MySQLStorage.from_url("mysql://app@localhost/app?unix_socket=/run/mysqld/mysqld.sock")
    try:
        assert redis.describe() == "redis://:***@127.0.0.1:6379/0 (prefix myapp)"
        assert postgresql.describe() == "postgresql://app:***@127.0.0.1:5432/app"
        assert mysql.describe() == "mysql://app:***@127.0.0.1:3307/app"
        assert socket.describe() == "mysql://app@localhost/app?unix_socket=/run/mysqld/mysqld.sock"
    finally:
        redis.close()
        postgresql.close()
        mysql.close()
        socket.close()


def test_the_drain_says_what_it_waits_for_and_that_it_finished(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    gate = uuid.uuid4().hex
    GATES[gate] = threading.Event()
    Gated.perform_later(gate, "running")
    background = start_worker(url, dataclasses.replace(FAST, shutdown_timeout=5.0))
    wait_for(lambda: "running:started" in labels())
    worker_id = background.worker.worker_id

    background.worker.stop()
    wait_for(lambda: any("draining: waiting" in m for m in messages(caplog)))
    GATES[gate].set()
    background.join()

    said = messages(caplog)
    assert f"worker {worker_id} draining: waiting up to 5s for 1 running job" in said
    assert f"worker {worker_id} drained: 1 job finished" in said


def test_a_drain_that_times_out_says_how_many_jobs_it_released(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    gates = [uuid.uuid4().hex for _ in range(2)]
    for gate in gates:
        GATES[gate] = threading.Event()
    stuck = [Gated.perform_later(gate, f"stuck{n}") for n, gate in enumerate(gates)]
    background = start_worker(url, dataclasses.replace(FAST, shutdown_timeout=0.2))
    wait_for(lambda: {"stuck0:started", "stuck1:started"} <= set(labels()))
    worker_id = background.worker.worker_id

    background.worker.stop()
    background.join()
    for gate in gates:
        GATES[gate].set()  # let the abandoned threads end

    said = messages(caplog)
    assert f"worker {worker_id} draining: waiting up to 0.2s for 2 running jobs" in said
    (released,) = [m for m in said if "drain timed out" in m]
    assert released.startswith(
        f"worker {worker_id} drain timed out after 0.2s: released 2 running jobs to run again: "
    )
    assert all(job.job_id in released for job in stuck)


def test_a_burst_ends_with_how_its_jobs_ended(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    for n in range(2):
        Note.perform_later(f"note{n}")
    Broken.perform_later("boom")
    Flaky.perform_later("flaky", 1)  # retried once, then succeeds
    Discards.perform_later()

    background = start_worker(url, burst=True)
    background.join()

    assert background.worker.tally == Tally(succeeded=3, failed=1, retried=1, discarded=1)
    assert messages(caplog)[-1] == (
        "burst done: ran 6 jobs: 3 succeeded, 1 failed, 1 retried, 1 discarded"
    )


@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_a_setting_no_retry_can_fix_raises_configuration_error(case: str, tmp_path: Path) -> None:
    address, words = bad_url(case, tmp_path)
    background = Background(Worker(address, options=FAST), burst=False)
    background.thread.start()

    with pytest.raises(ConfigurationError, match=words) as raised:
        background.join(timeout=10)
    assert "s3cret" not in str(raised.value) and "wrong" not in str(raised.value)


@pytest.mark.parametrize(
    "case", ["redis-unknown-option", "sqlite-missing-folder", "mysql-wrong-password"]
)
def test_with_several_processes_too(case: str, tmp_path: Path) -> None:
    address, words = bad_url(case, tmp_path)
    background = Background(Worker(address, processes=2, options=FAST), burst=False)
    background.thread.start()

    with pytest.raises(ConfigurationError, match=words):
        background.join(timeout=20)


@pytest.mark.parametrize(
    "address",
    ["redis://127.0.0.1:{port}/0?reconnect_timeout=0.05", "mysql://root@127.0.0.1:{port}/test"],
)
def test_a_server_that_cannot_be_reached_is_still_retried(
    address: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    address = address.format(port=free_port())
    background = Background(Worker(address, options=FAST), burst=False)
    background.thread.start()

    wait_for(lambda: sum("registering the worker failed" in m for m in messages(caplog)) >= 2)
    assert background.thread.is_alive()
    background.worker.stop()
    background.join()  # stops cleanly, raising nothing


@pytest.mark.parametrize(
    "case", ["postgresql-missing-database", "sqlite-missing-folder", "mysql-missing-database"]
)
def test_enqueueing_there_is_an_enqueue_error_caused_by_the_setting(
    case: str, tmp_path: Path
) -> None:
    address, words = bad_url(case, tmp_path)
    activejob.configure(adapter=address)

    with pytest.raises(EnqueueError) as raised:
        Note.perform_later("never")
    assert isinstance(raised.value.__cause__, ConfigurationError)
    assert words in str(raised.value)

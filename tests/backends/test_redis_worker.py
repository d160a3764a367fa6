"""The same worker on Redis: retries, failures, no polling delay, outages, restarts,
and a worker process killed with -9."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobState, Storage
from activejob.storage.redis import RedisStorage
from tests.backends import redis_support
from tests.backends.redis_support import FaultyProxy, PrivateRedis, with_params
from tests.support import wait_for
from tests.worker import jobs
from tests.worker.conftest import FAST, Background, start_worker
from tests.worker.jobs import Broken, DiesFirstTime, Flaky, KillsItsWorker, Note, labels
from tests.worker_command import WorkerCommand

pytestmark = pytest.mark.redis

# Fixtures shared by the Redis tests.
prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url
proxy = redis_support.proxy
private_redis = redis_support.private_redis

ROOT = Path(__file__).resolve().parents[2]
IDLE = dataclasses.replace(FAST, poll_interval=30.0)
"""A worker that would poll only every 30 s: anything faster was a wake-up."""


@pytest.fixture(autouse=True)
def clean_runs() -> Iterator[None]:
    jobs.RUNS.clear()
    yield
    jobs.RUNS.clear()


@pytest.fixture
def url(redis_url: str) -> str:
    activejob.configure(adapter=redis_url)
    return redis_url


@pytest.fixture
def storage(url: str) -> Storage:
    built: Storage = storage_of(url)
    built.migrate()
    return built


@pytest.fixture
def running(url: str) -> Iterator[list[Background]]:
    started: list[Background] = []
    yield started
    for background in started:
        background.worker.stop()
        background.join()


def state(storage: Storage, job_id: str) -> JobState | None:
    info = storage.get(job_id)
    return None if info is None else info.state


def test_retries_and_failures_through_the_storage(url: str, storage: Storage) -> None:
    flaky = Flaky.perform_later("f", 2)
    broken = Broken.perform_later("it broke")
    background = start_worker(url, burst=True)
    background.join()
    assert labels().count("f#3") == 1 and state(storage, flaky.job_id) is JobState.SUCCEEDED
    info = storage.get(broken.job_id)
    assert info is not None and info.state is JobState.FAILED and info.error is not None
    assert info.error.exception_class == "builtins.ValueError"
    assert info.error.message == "it broke"
    assert "Traceback" in info.error.traceback and "perform" in info.error.traceback


def test_an_idle_worker_starts_a_new_job_at_once(
    url: str, storage: Storage, running: list[Background]
) -> None:
    running.append(start_worker(url, IDLE))
    wait_for(lambda: len(storage.workers()) == 1)
    for n in range(5):
        sent = time.perf_counter()
        Note.perform_later(f"now{n}")
        wait_for(lambda n=n: f"now{n}" in labels(), timeout=5)
        assert time.perf_counter() - sent < 1.0  # not the 30 s poll


def test_a_scheduled_job_starts_when_due(
    url: str, storage: Storage, running: list[Background]
) -> None:
    running.append(start_worker(url, IDLE))
    wait_for(lambda: len(storage.workers()) == 1)
    job = Note.set(wait=0.3).perform_later("due")
    assert job.scheduled_at is not None
    wait_for(lambda: "due" in labels(), timeout=5)
    started = time.time()
    assert job.scheduled_at.timestamp() <= started < job.scheduled_at.timestamp() + 1.0


def test_the_worker_rides_out_an_outage(
    url: str, storage: Storage, proxy: FaultyProxy, prefix: str, running: list[Background]
) -> None:
    through_proxy = with_params(proxy.url, prefix=prefix, reconnect_timeout=0.2)
    running.append(start_worker(through_proxy, IDLE))
    wait_for(lambda: len(storage.workers()) == 1)
    Note.perform_later("before")
    wait_for(lambda: "before" in labels())
    proxy.cut()  # Redis unreachable from the worker
    # Until its idle registration lapses (a second or so), a new job would be handed
    # to the cut-off worker, to run when it gets through again: that is not this test.
    assert isinstance(storage, RedisStorage)
    wait_for(lambda: not redis_support.idle_fetchers(storage), timeout=5)
    during = Note.perform_later("during")  # enqueued directly, not through the proxy
    time.sleep(0.5)  # sleep-ok: the outage must last long enough for the worker to notice
    assert state(storage, during.job_id) is JobState.READY
    proxy.restore()
    wait_for(lambda: state(storage, during.job_id) is JobState.SUCCEEDED, timeout=15)
    assert labels() == ["before", "during"]


def test_the_worker_carries_on_after_redis_is_killed_and_restarted(
    private_redis: PrivateRedis, running: list[Background]
) -> None:
    address = with_params(private_redis.url, prefix="app", reconnect_timeout=0.2)
    activejob.configure(adapter=address)
    store = RedisStorage(address)
    try:
        store.pause("default")
        kept = Note.perform_later("enqueued-before-the-crash")
        running.append(start_worker(address, IDLE))
        wait_for(lambda: len(store.workers()) == 1)
        private_redis.restart()  # kill -9; the AOF brings back the job and the pause
        assert state(store, kept.job_id) is JobState.READY
        store.resume("default")
        after = Note.perform_later("enqueued-after-the-restart")
        wait_for(lambda: state(store, after.job_id) is JobState.SUCCEEDED, timeout=15)
        wait_for(lambda: state(store, kept.job_id) is JobState.SUCCEEDED, timeout=15)
    finally:
        store.close()


class CLI(WorkerCommand):
    """``python -m activejob worker`` on Redis, its output in a file."""

    def __init__(self, tmp_path: Path, url: str, *flags: str) -> None:
        super().__init__(
            tmp_path / "worker.out", url, "--import", "tests.worker.jobs",
            "--poll-interval", "0.05", "--heartbeat-interval", "0.2", "--recover-after", "1",
            *flags,
        )  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, url: str) -> Iterator[list[CLI]]:
    started: list[CLI] = []
    yield started
    for worker in started:
        worker.stop()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_job_whose_worker_was_killed_with_sigkill_runs_again(
    tmp_path: Path, url: str, storage: Storage, cli: list[CLI]
) -> None:
    log = tmp_path / "runs.log"
    job = DiesFirstTime.perform_later(log)
    cli.append(CLI(tmp_path, url))
    wait_for(lambda: len(lines(log)) == 1, timeout=15)
    first_pid = int(lines(log)[0].split()[1])
    os.kill(first_pid, signal.SIGKILL)
    wait_for(lambda: state(storage, job.job_id) is JobState.SUCCEEDED, timeout=15)
    runs = lines(log)
    assert [run.split()[0] for run in runs] == ["first", "again"]
    assert int(runs[1].split()[1]) != first_pid
    info = storage.get(job.job_id)
    assert info is not None and (info.attempts, info.crashes) == (2, 1)
    assert cli[0].stop() == 0


def test_a_job_that_keeps_killing_its_worker_is_failed_as_poison(
    tmp_path: Path, url: str, storage: Storage, cli: list[CLI]
) -> None:
    log = tmp_path / "runs.log"
    job = KillsItsWorker.perform_later(log)
    cli.append(CLI(tmp_path, url, "--max-crashes", "1"))
    wait_for(lambda: state(storage, job.job_id) is JobState.FAILED, timeout=20)
    assert len(lines(log)) == 2
    info = storage.get(job.job_id)
    assert info is not None and info.error is not None
    assert info.error.exception_class == "activejob.storage.base.WorkerLostError"

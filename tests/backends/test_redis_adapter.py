"""``redis://`` as a queue adapter: what ``perform_later`` and friends store."""

from __future__ import annotations

import time
from typing import Any

import pytest

import activejob
from activejob import Job
from activejob.errors import EnqueueError
from activejob.storage.base import JobState, StorageUnavailable
from activejob.storage.redis import RedisStorage
from activejob.storage.redis.scripts import Scripts
from tests.backends import redis_support
from tests.backends.redis_support import free_port

pytestmark = pytest.mark.redis

# Fixtures shared by the Redis tests.
prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url
storage = redis_support.storage


class ReportJob(Job):
    queue_as = "reports"

    def perform(self, report_id: int) -> None:
        pass


class UrgentJob(Job):
    priority = -10

    def perform(self) -> None:
        pass


def test_perform_later_stores_the_payload(redis_url: str, storage: RedisStorage) -> None:
    activejob.configure(adapter=redis_url)
    job = ReportJob.perform_later(7)
    assert job.successfully_enqueued
    info = storage.get(job.job_id)
    assert info is not None
    assert (info.queue_name, info.priority, info.state) == ("reports", 0, JobState.READY)
    assert str(info.id) == job.provider_job_id
    assert info.payload["arguments"] == [7] and info.job_class == ReportJob.job_class_name


def test_scheduled_enqueue_keeps_the_time(redis_url: str, storage: RedisStorage) -> None:
    activejob.configure(adapter=redis_url)
    job = ReportJob.set(wait=3600, priority=5).perform_later(1)
    info = storage.get(job.job_id)
    assert info is not None and info.state is JobState.SCHEDULED and info.priority == 5
    assert job.scheduled_at is not None
    assert abs(info.run_at.timestamp() - job.scheduled_at.timestamp()) < 1e-3


def test_bulk_enqueue_is_one_pipelined_round_trip(
    redis_url: str, storage: RedisStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    activejob.configure(adapter=redis_url)
    calls: list[tuple[str, int]] = []
    real_run, real_many = Scripts.run, Scripts.run_many

    def run(self: Scripts, name: str, args: Any) -> Any:
        calls.append(("run", 1))
        return real_run(self, name, args)

    def run_many(self: Scripts, name: str, batches: Any) -> Any:
        calls.append(("run_many", len(batches)))
        return real_many(self, name, batches)

    monkeypatch.setattr(Scripts, "run", run)
    monkeypatch.setattr(Scripts, "run_many", run_many)
    jobs = [ReportJob(i) for i in range(2500)] + [UrgentJob().set(wait=60)]
    assert activejob.perform_all_later(jobs) == 2501
    assert calls == [("run_many", 3)]  # three script calls, one pipeline
    assert all(j.successfully_enqueued and j.provider_job_id for j in jobs)
    counts = {q.name: q.counts for q in storage.queues()}
    assert counts["reports"][JobState.READY] == 2500
    assert counts["default"][JobState.SCHEDULED] == 1


def test_an_unreachable_redis_raises_enqueue_error(redis_server_url: str) -> None:
    activejob.configure(adapter=f"redis://127.0.0.1:{free_port()}/0?reconnect_timeout=0.1")
    start = time.perf_counter()
    with pytest.raises(EnqueueError) as raised:
        ReportJob.perform_later(1)
    assert isinstance(raised.value.__cause__, StorageUnavailable)
    assert time.perf_counter() - start < 5


def test_the_adapter_exposes_its_storage_to_workers(redis_url: str) -> None:
    from activejob.adapters.cache import resolve_adapter
    from activejob.adapters.redis import RedisAdapter

    adapter = resolve_adapter(redis_url)
    assert isinstance(adapter, RedisAdapter) and isinstance(adapter.storage, RedisStorage)
    assert adapter.storage.settings.prefix in redis_url


def test_status_reads_the_job_from_redis(redis_url: str) -> None:
    from activejob.status import status

    activejob.configure(adapter=redis_url)
    job = ReportJob.set(wait=60).perform_later(3)
    info = status(job.job_id)
    assert info is not None and info.state is JobState.SCHEDULED and info.queue_name == "reports"
    assert status("no-such-job") is None


def test_the_jobs_and_queues_commands_work_on_redis(redis_url: str, storage: RedisStorage) -> None:
    import subprocess
    import sys
    from pathlib import Path

    activejob.configure(adapter=redis_url)
    waiting = ReportJob.perform_later(9)
    root = Path(__file__).resolve().parents[2]
    env = {"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "activejob", *args, "--adapter", redis_url],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "paused queue reports" in cli("queues", "pause", "reports")
    assert storage.queues()[0].paused
    listing = cli("queues", "list").splitlines()
    assert listing[1].split()[:4] == ["reports", "yes", "0", "1"]
    assert waiting.job_id in cli("jobs", "list", "--state", "ready")
    assert "discarded 1 job" in cli("jobs", "discard", waiting.job_id)
    assert storage.get(waiting.job_id).state is JobState.DISCARDED  # type: ignore[union-attr]

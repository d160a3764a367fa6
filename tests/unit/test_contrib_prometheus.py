"""Prometheus: counters and a duration histogram by job class, queue and outcome,
read back from a registry of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client")

from prometheus_client import REGISTRY, CollectorRegistry

import activejob
from activejob import Abort, EnqueueError, Job, before_enqueue, discard_on, retry_on
from activejob.adapters.test import TestAdapter
from activejob.contrib import prometheus as aj_prometheus
from activejob.job.execution import run
from tests.support import RecordingAdapter

ROOT = Path(__file__).resolve().parents[2]
M = "tests.unit.test_contrib_prometheus"
running_seen: list[float | None] = []
registry_in_use: list[CollectorRegistry] = []


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


class WorkJob(Job):
    queue_as = "work"

    def perform(self) -> None:
        running_seen.append(
            registry_in_use[0].get_sample_value(
                "activejob_jobs_running", {"job_class": f"{M}.WorkJob", "queue": "work"}
            )
        )


@retry_on(Flaky, wait=0, attempts=2, jitter=0)
class Retried(Job):
    def perform(self) -> None:
        raise Flaky


@discard_on(Fatal)
class Discarded(Job):
    def perform(self) -> None:
        raise Fatal


class Vetoed(Job):
    @before_enqueue
    def veto(self) -> None:
        raise Abort

    def perform(self) -> None: ...


class Interrupted(Job):
    def perform(self) -> None:
        raise KeyboardInterrupt


@pytest.fixture
def registry() -> Iterator[CollectorRegistry]:
    fresh = CollectorRegistry()
    registry_in_use[:] = [fresh]
    running_seen.clear()
    metrics = aj_prometheus.instrument(registry=fresh)
    yield fresh
    metrics.uninstrument()


@pytest.fixture
def adapter() -> TestAdapter:
    test_adapter = TestAdapter()
    activejob.configure(adapter=test_adapter)
    return test_adapter


def value(registry: CollectorRegistry, name: str, job: str, queue: str, **labels: str) -> float:
    found = registry.get_sample_value(name, {"job_class": f"{M}.{job}", "queue": queue, **labels})
    return 0.0 if found is None else found


def test_enqueue_counts_by_outcome(registry: CollectorRegistry, adapter: TestAdapter) -> None:
    WorkJob.perform_later()
    WorkJob.set(wait=30).perform_later()
    activejob.perform_all_later([WorkJob(), WorkJob()])
    Vetoed.perform_later()
    activejob.configure(adapter=RecordingAdapter(error=OSError("down")))
    with pytest.raises(EnqueueError):
        WorkJob.perform_later()
    with pytest.raises(EnqueueError):
        activejob.perform_all_later([WorkJob()])
    name = "activejob_jobs_enqueued_total"
    assert value(registry, name, "WorkJob", "work", outcome="enqueued") == 4
    assert value(registry, name, "WorkJob", "work", outcome="error") == 2
    assert value(registry, name, "Vetoed", "default", outcome="aborted") == 1


def test_perform_counts_durations_and_running(
    registry: CollectorRegistry, adapter: TestAdapter
) -> None:
    WorkJob.perform_later()
    Retried.perform_later()
    Discarded.perform_later()
    adapter.perform_enqueued_jobs()
    with pytest.raises(Flaky):
        adapter.perform_enqueued_jobs()  # the retry, which fails for good
    with pytest.raises(KeyboardInterrupt):
        run(Interrupted())
    name = "activejob_jobs_performed_total"
    assert value(registry, name, "WorkJob", "work", outcome="succeeded") == 1
    assert value(registry, name, "Retried", "default", outcome="retry") == 1
    assert value(registry, name, "Retried", "default", outcome="failed") == 1
    assert value(registry, name, "Discarded", "default", outcome="discarded") == 1
    assert value(registry, name, "Interrupted", "default", outcome="interrupted") == 1
    histogram = "activejob_job_duration_seconds"
    ok = {"outcome": "succeeded"}
    assert value(registry, f"{histogram}_count", "WorkJob", "work", **ok) == 1
    assert value(registry, f"{histogram}_sum", "WorkJob", "work", **ok) >= 0
    assert value(registry, f"{histogram}_bucket", "WorkJob", "work", **ok, le="+Inf") == 1
    assert running_seen == [1.0]  # counted as running while it ran
    assert value(registry, "activejob_jobs_running", "WorkJob", "work") == 0
    assert value(registry, "activejob_jobs_running", "Interrupted", "default") == 0


def test_instrument_once_per_registry_and_uninstrument(adapter: TestAdapter) -> None:
    fresh = CollectorRegistry()
    first = aj_prometheus.instrument(registry=fresh)
    assert aj_prometheus.instrument(registry=fresh) is first
    WorkJob.perform_later()
    first.uninstrument()
    labels = {"job_class": f"{M}.WorkJob", "queue": "work", "outcome": "enqueued"}
    assert fresh.get_sample_value("activejob_jobs_enqueued_total", labels) is None
    again = aj_prometheus.instrument(registry=fresh, buckets=(1.0, 5.0))
    assert again is not first
    WorkJob.perform_later()
    assert value(fresh, "activejob_jobs_enqueued_total", "WorkJob", "work", outcome="enqueued") == 1
    again.uninstrument()


def test_default_registry(adapter: TestAdapter) -> None:
    metrics = aj_prometheus.instrument()
    try:
        assert metrics.registry is REGISTRY
        WorkJob.perform_later()
        name = "activejob_jobs_enqueued_total"
        assert value(REGISTRY, name, "WorkJob", "work", outcome="enqueued") == 1
    finally:
        metrics.uninstrument()


def test_import_activejob_imports_no_prometheus_client() -> None:
    code = "import sys, activejob, activejob.contrib; print('prometheus_client' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"

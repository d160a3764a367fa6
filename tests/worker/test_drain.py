"""Stopping a worker drains: no more claims, prefetched jobs released, running ones finish."""

from __future__ import annotations

import dataclasses
import threading
import uuid

from activejob.storage.base import JobState, Storage
from tests.support import job_state, wait_for
from tests.worker.conftest import FAST, start_worker
from tests.worker.jobs import GATES, AsyncStuck, Gated, Note, labels

ONE_THREAD_TWO_PREFETCHED = dataclasses.replace(FAST, threads=1, prefetch=2)


def test_stop_releases_prefetched_jobs_and_lets_the_running_one_finish(
    url: str, storage: Storage
) -> None:
    gate = uuid.uuid4().hex
    GATES[gate] = threading.Event()
    running = Gated.set(priority=0).perform_later(gate, "running")
    waiting = [Note.set(priority=5).perform_later(f"w{n}") for n in range(2)]
    worker = start_worker(url, ONE_THREAD_TWO_PREFETCHED)
    wait_for(lambda: "running:started" in labels())
    wait_for(lambda: all(job_state(storage, j.job_id) is JobState.RUNNING for j in waiting))

    worker.worker.stop()
    wait_for(lambda: all(job_state(storage, j.job_id) is JobState.READY for j in waiting))
    assert worker.thread.is_alive()  # still waiting for the running job
    GATES[gate].set()
    worker.join()

    assert job_state(storage, running.job_id) is JobState.SUCCEEDED
    assert labels() == ["running:started", "running"]


def test_a_job_still_running_at_the_shutdown_timeout_is_released(
    url: str, storage: Storage
) -> None:
    gate = uuid.uuid4().hex
    GATES[gate] = threading.Event()
    stuck = Gated.perform_later(gate, "stuck")
    worker = start_worker(url, dataclasses.replace(FAST, shutdown_timeout=0.2))
    wait_for(lambda: "stuck:started" in labels())

    worker.worker.stop()
    worker.join()

    assert job_state(storage, stuck.job_id) is JobState.READY
    GATES[gate].set()  # let the abandoned thread end; its result is not recorded
    wait_for(lambda: "stuck" in labels())
    assert job_state(storage, stuck.job_id) is JobState.READY


def test_an_async_job_still_running_at_the_timeout_is_cancelled_and_released(
    url: str, storage: Storage
) -> None:
    stuck = AsyncStuck.perform_later("async")
    worker = start_worker(url, dataclasses.replace(FAST, shutdown_timeout=0.2))
    wait_for(lambda: "async:started" in labels())

    worker.worker.stop()
    worker.join()

    assert job_state(storage, stuck.job_id) is JobState.READY
    wait_for(lambda: "async:cancelled" in labels())

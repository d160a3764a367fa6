"""Sync jobs run on threads at once; async jobs share one event loop."""

from __future__ import annotations

import dataclasses
import threading
import uuid

from activejob.storage.base import JobState, Storage
from tests.worker.conftest import FAST, run_burst
from tests.worker.jobs import BARRIERS, RUNS, AsyncMeet, AtBarrier


def test_sync_jobs_run_concurrently_on_the_threads(url: str, storage: Storage) -> None:
    name = uuid.uuid4().hex
    BARRIERS[name] = threading.Barrier(3)
    queued = [AtBarrier.perform_later(name, f"t{n}") for n in range(3)]

    run_burst(url, dataclasses.replace(FAST, threads=3))

    for job in queued:
        info = storage.get(job.job_id)
        assert info is not None and info.state is JobState.SUCCEEDED, info
    assert len({thread for _, thread in RUNS}) == 3


def test_async_jobs_run_together_on_one_event_loop(url: str, storage: Storage) -> None:
    a, b = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"
    queued = [AsyncMeet.perform_later(a, b), AsyncMeet.perform_later(b, a)]

    # One thread: the two async jobs could not meet if they needed threads.
    run_burst(url, dataclasses.replace(FAST, threads=1))

    for job in queued:
        info = storage.get(job.job_id)
        assert info is not None and info.state is JobState.SUCCEEDED, info
    assert {thread for _, thread in RUNS} == {"activejob-loop"}

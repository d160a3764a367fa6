"""Heartbeats keep a live worker's long jobs; the poison-job limit defaults to 3."""

from __future__ import annotations

import argparse
import dataclasses
import threading
import uuid
from datetime import timedelta

import pytest

from activejob.cli.worker import add_arguments, options_from
from activejob.storage.base import JobState, Storage
from activejob.worker import Worker, WorkerOptions
from tests.support import wait_for
from tests.worker.conftest import FAST, working
from tests.worker.jobs import GATES, Gated, labels

QUICK_RECOVERY = dataclasses.replace(FAST, heartbeat_interval=0.1, recover_after=0.5)


def test_max_crashes_defaults_to_3_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTIVEJOB_IMPORTS", raising=False)
    parser = argparse.ArgumentParser()
    add_arguments(parser)

    assert WorkerOptions().max_crashes == 3
    assert Worker("sqlite:///unused.sqlite3").options.max_crashes == 3
    assert options_from(parser.parse_args([])).max_crashes == 3
    described = parser.format_help().rsplit("--max-crashes N", 1)[1].split("\n  --", 1)[0]
    assert "(default: 3)" in " ".join(described.split())


def test_a_job_running_longer_than_recover_after_stays_with_its_live_worker(
    url: str, storage: Storage
) -> None:
    gate = uuid.uuid4().hex
    gate_open = GATES[gate] = threading.Event()
    job = Gated.perform_later(gate, "long")
    with working(url, QUICK_RECOVERY) as worker:  # two threads: a released job would run again
        wait_for(lambda: "long:started" in labels())

        def heartbeaten_for() -> timedelta:
            info = storage.get(job.job_id)
            assert info is not None and info.started_at and info.heartbeat_at
            return info.heartbeat_at - info.started_at

        # Several recovery checks pass while the job runs: each finds it heartbeaten.
        wait_for(lambda: heartbeaten_for() > timedelta(seconds=3 * QUICK_RECOVERY.recover_after))
        running = storage.get(job.job_id)
        assert running is not None and running.state is JobState.RUNNING
        assert running.worker_id == worker.worker.worker_id
        gate_open.set()
        wait_for(lambda: (info := storage.get(job.job_id)) is not None and info.state.finished)

    info = storage.get(job.job_id)
    assert info is not None and info.state is JobState.SUCCEEDED
    assert (info.attempts, info.crashes) == (1, 0)
    assert labels() == ["long:started", "long"]

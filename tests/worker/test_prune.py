"""A running worker prunes finished jobs once they are older than the retention
(``--retention``, else the backend's ``keep_finished``), and keeps younger ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import activejob
from activejob import _time
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobState, Storage
from activejob.testing.contract import FakeClock
from tests.support import job_state, wait_for
from tests.worker.conftest import FAST, working
from tests.worker.jobs import Note, labels

PRUNE_EVERY_TICK = dataclasses.replace(FAST, prune_interval=0.05)


def test_a_finished_job_disappears_once_the_retention_has_passed(
    url: str, storage: Storage
) -> None:
    job = Note.perform_later("short-lived")
    with working(url, dataclasses.replace(PRUNE_EVERY_TICK, retention=0.3)):
        wait_for(lambda: "short-lived" in labels())
        wait_for(lambda: storage.get(job.job_id) is None)


@pytest.mark.parametrize("retention_from", ["worker option", "url keep_finished"])
def test_finished_jobs_younger_than_the_retention_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retention_from: str
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(_time, "now", clock)
    address = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    options = PRUNE_EVERY_TICK
    if retention_from == "worker option":
        options = dataclasses.replace(options, retention=3600)
    else:
        address += "?keep_finished=1h"
    activejob.configure(adapter=address)
    storage: Storage = storage_of(address)
    storage.migrate()
    with working(address, options):
        old = Note.perform_later("old")
        wait_for(lambda: job_state(storage, old.job_id) is JobState.SUCCEEDED)
        clock.advance(3000)  # old is 50 minutes old: inside the hour, kept
        young = Note.perform_later("young")
        wait_for(lambda: job_state(storage, young.job_id) is JobState.SUCCEEDED)
        assert job_state(storage, old.job_id) is JobState.SUCCEEDED
        clock.advance(1000)  # old is past the hour; young is 17 minutes old

        wait_for(lambda: storage.get(old.job_id) is None)
        assert job_state(storage, young.job_id) is JobState.SUCCEEDED
    storage.close()

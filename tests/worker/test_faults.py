"""Faults inside the worker that retrying cannot fix, and retrying itself."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from activejob import _time
from activejob.storage.base import JobState, Result, Storage
from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import FakeClock, new_job
from activejob.worker.acker import Acker
from activejob.worker.process import WorkerProcess
from activejob.worker.retrying import GaveUp, persist
from tests.worker.conftest import FAST, Background
from tests.worker.jobs import Note


class CancelledDuringBackoff(threading.Event):
    """A cancel event that the caller sets while ``persist`` backs off."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


class RefusesResults(SQLiteStorage):
    """A real SQLite storage whose ``complete`` refuses every batch, as a storage
    does with a value it cannot take (retrying cannot help)."""

    def _complete(self, results: Sequence[Result]) -> None:
        raise ValueError("this storage refuses the batch")


def test_persist_does_not_call_again_once_cancelled_during_the_backoff() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("gone")
        return "back"  # a call after the cancel could block for as long as it likes

    with pytest.raises(GaveUp):
        persist(flaky, "testing", CancelledDuringBackoff())
    assert len(calls) == 1


def test_a_job_released_twice_in_one_batch_is_recorded_once(storage: Storage) -> None:
    storage.push([job := new_job("default")])
    [claimed] = storage.claim("w", ["default"], 1)
    acker = Acker(storage, "w")
    acker.start()
    release = Result(claimed.id, JobState.READY, attempts=claimed.attempts)
    acker.add_many([release, release])
    assert acker.close(timeout=5) is True
    info = storage.get(job.job_id)
    assert info is not None and info.state is JobState.READY


def test_results_refused_for_good_stop_the_worker_which_raises(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusing = RefusesResults(tmp_path / "jobs.sqlite3")
    job = Note.perform_later("ran")
    background = Background(WorkerProcess(refusing, FAST), burst=True)
    background.thread.start()
    with pytest.raises(ValueError, match="refuses the batch"):
        background.join()  # fails the test if the worker went on instead of stopping
    # Still running under a worker that no longer heartbeats: recovery releases it.
    info = refusing.get(job.job_id)
    assert info is not None and info.state is JobState.RUNNING
    monkeypatch.setattr(_time, "now", FakeClock(_time.now() + 120))
    assert refusing.recover(stale_after=60, max_crashes=3) == (1, 0)
    refusing.close()

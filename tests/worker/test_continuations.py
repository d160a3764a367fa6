"""Continuations in a real worker on SQLite: an error after progress resumes from
the cursor at once, counted apart from failures and retries (the SIGTERM case, on
every backend, is tests/acceptance/test_continuation_sigterm.py)."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from pathlib import Path

import pytest

from activejob import events
from activejob.storage.base import JobState, Storage
from tests.support import wait_for
from tests.worker.conftest import FAST, run_burst, start_worker
from tests.worker.continuation_jobs import FailsOnceAfterProgress, LedgerJob, ledger_lines


def test_an_error_after_progress_resumes_from_the_cursor_in_the_worker(
    url: str, storage: Storage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = tmp_path / "ledger.txt"
    failed: list[events.Event] = []
    events.subscribe("job_failed", failed.append)
    try:
        job = FailsOnceAfterProgress.perform_later(str(ledger), 10, 6)
        with caplog.at_level(logging.INFO, logger="activejob"):
            run_burst(url, dataclasses.replace(FAST, burst_horizon=0.0))
    finally:
        events.unsubscribe("job_failed", failed.append)

    counts = Counter(entry for entry, _ in ledger_lines(ledger))
    assert counts == Counter(str(i) for i in range(10))  # each item once, none missing
    info = storage.get(job.job_id)
    assert info is not None and info.state is JobState.SUCCEEDED
    assert failed == []
    assert "(cursor 6) due to ConnectionError (lost the connection at item 6)" in caplog.text
    assert "ran 2 jobs: 1 succeeded, 0 failed, 0 retried, 0 discarded, 1 resumed" in caplog.text


def test_a_stopped_worker_hands_the_job_back_with_its_progress(
    url: str, storage: Storage, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.txt"
    job = LedgerJob.perform_later(str(ledger), 12, 4)
    worker = start_worker(url)
    wait_for(lambda: "4" in dict(ledger_lines(ledger)), timeout=10)
    worker.worker.stop()
    worker.join()

    info = storage.get(job.job_id)
    assert info is not None and info.state in (JobState.READY, JobState.SCHEDULED)
    assert info.payload["continuation"]["cursor"] == 5
    assert worker.worker.tally.resumed == 1 and worker.worker.tally.retried == 0

    run_burst(url, dataclasses.replace(FAST, burst_horizon=0.0))
    counts = Counter(entry for entry, _ in ledger_lines(ledger))
    assert counts == Counter(["prepare", *map(str, range(12)), "finish"])
    final = storage.get(job.job_id)
    assert final is not None and final.state is JobState.SUCCEEDED

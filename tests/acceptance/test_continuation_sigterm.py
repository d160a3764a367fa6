"""A continuation stopped by a real SIGTERM to a real ``activejob worker`` resumes in
another worker process at its cursor, each item done exactly once, on every
durable backend (docs/continuations.md)."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

import activejob
from activejob import Job
from activejob.storage.base import JobState
from tests.acceptance.cli_backends import Backend, backend, pg_cli_database
from tests.acceptance.test_worker_cli import CLI
from tests.support import wait_for
from tests.worker.continuation_jobs import AsyncLedgerJob, LedgerJob, ledger_lines

__all__ = ["backend", "pg_cli_database"]

ITEMS = 40
PAUSE_AFTER = 16
IMPORTS = ("--import", "tests.worker.continuation_jobs")


@pytest.mark.parametrize("job_class", [LedgerJob, AsyncLedgerJob], ids=["sync", "async"])
def test_sigterm_interrupts_at_a_checkpoint_and_another_worker_resumes_at_the_cursor(
    backend: Backend, tmp_path: Path, job_class: type[Job]
) -> None:
    activejob.configure(adapter=backend.url)
    ledger = tmp_path / "ledger.txt"
    job = job_class.perform_later(str(ledger), ITEMS, PAUSE_AFTER)

    first = CLI(tmp_path, backend.url, *IMPORTS, "--shutdown-timeout", "20")
    try:
        wait_for(lambda: (str(PAUSE_AFTER), _pid(ledger)) in ledger_lines(ledger), timeout=20)
        first.proc.send_signal(signal.SIGTERM)
        assert first.wait() == 0, first.text()
    finally:
        first.stop()

    # Handed back at once with its progress: due now, not failed, no retry counted.
    stored = backend.storage.get(job.job_id)
    assert stored is not None
    assert stored.state in (JobState.READY, JobState.SCHEDULED), first.text()
    assert stored.error is None
    assert stored.payload["continuation"] == {
        "completed": ["prepare"],
        "current": "items",
        "cursor": PAUSE_AFTER + 1,
        "resumptions": 0,
    }
    assert stored.payload["exception_executions"] == {}
    text = first.text()
    assert f"at step 'items' (cursor {PAUSE_AFTER + 1}): the worker is stopping" in text
    assert "Retrying" not in text and "Error performing" not in text

    second = CLI(tmp_path, backend.url, *IMPORTS, "--burst", "--burst-horizon", "0")
    try:
        assert second.wait() == 0, second.text()
    finally:
        second.stop()

    entries = ledger_lines(ledger)
    counts = Counter(entry for entry, _ in entries)
    expected = ["prepare", *map(str, range(ITEMS)), "finish"]
    assert sorted(counts) == sorted(expected), f"missing or extra items: {counts}"
    assert all(n == 1 for n in counts.values()), f"done twice: {counts}"
    by_item = dict(entries)
    first_pid, second_pid = by_item["prepare"], by_item["finish"]
    assert first_pid != second_pid
    assert all(by_item[str(i)] == first_pid for i in range(PAUSE_AFTER + 1))
    assert all(by_item[str(i)] == second_pid for i in range(PAUSE_AFTER + 1, ITEMS))
    assert "Resuming" in second.text() and f"(cursor {PAUSE_AFTER + 1})" in second.text()
    final = backend.storage.get(job.job_id)
    assert final is not None and final.state is JobState.SUCCEEDED


def _pid(ledger: Path) -> int:
    """The pid that wrote the ledger's first line (the first worker's process)."""
    lines = ledger_lines(ledger)
    return lines[0][1] if lines else -1

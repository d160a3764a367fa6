"""``Worker(processes=N)`` from Python runs the same supervisor as the command."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from activejob.storage.base import JobState, Storage
from activejob.worker import Worker
from tests.support import wait_for
from tests.worker.conftest import FAST
from tests.worker.jobs import AppendLine


def test_several_processes_work_until_stopped(url: str, storage: Storage, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    queued = [AppendLine.perform_later(log, f"job{n}") for n in range(10)]
    worker = Worker(url, processes=2, imports=["tests.worker.jobs"], options=FAST)
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(worker.run()), daemon=True)
    thread.start()

    wait_for(lambda: all(_succeeded(storage, job.job_id) for job in queued), timeout=15)
    worker.stop()
    thread.join(15)

    assert status == [0]
    pids = {line.split()[1] for line in log.read_text().splitlines()}
    assert len(log.read_text().splitlines()) == 10
    assert str(os.getpid()) not in pids  # the children ran them


def _succeeded(storage: Storage, job_id: str) -> bool:
    info = storage.get(job_id)
    return info is not None and info.state is JobState.SUCCEEDED

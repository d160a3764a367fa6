"""``activejob workers`` with a real worker running, on each backend: who is alive,
where, on which queues, holding how many jobs, and when it last said so."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import activejob
from tests.acceptance.cli_backends import Backend, backend, pg_cli_database
from tests.acceptance.test_cli_jobs import activejob_cli
from tests.acceptance.test_worker_cli import CLI
from tests.support import wait_for
from tests.worker.jobs import WaitForFile

__all__ = ["backend", "pg_cli_database"]  # fixtures, used by name


def _workers(backend: Backend) -> list[dict[str, Any]]:
    result = activejob_cli("workers", "--json", "--adapter", backend.url)
    assert result.returncode == 0, result.stderr
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


def test_workers_lists_a_running_worker_with_host_pid_queues_and_jobs(
    backend: Backend, tmp_path: Path
) -> None:
    assert _workers(backend) == []
    activejob.configure(adapter=backend.url)
    log, release = tmp_path / "runs.log", tmp_path / "release"
    job = WaitForFile.perform_later(log, "held", release)
    worker = CLI(tmp_path, backend.url, "--queues", "critical,default", "--threads", "2")
    try:
        wait_for(lambda: log.exists() and "held:started" in log.read_text(), timeout=20)
        job_pid = int(log.read_text().split()[1])
        [listed] = _workers(backend)
        assert listed["hostname"] == socket.gethostname()
        assert listed["pid"] == job_pid
        assert listed["queues"] == ["critical", "default"]
        assert (listed["running"], listed["running_job_ids"]) == (1, [job.job_id])
        heartbeat = datetime.fromisoformat(listed["heartbeat_at"])
        assert heartbeat.utcoffset() == timedelta(0)
        assert abs(heartbeat.timestamp() - time.time()) < 60

        table = activejob_cli("workers", "--adapter", backend.url).stdout.splitlines()
        assert table[0].split() == [
            "WORKER",
            "HOST",
            "PID",
            "QUEUES",
            "RUNNING",
            "STARTED",
            "HEARTBEAT",
        ]
        cells = table[1].split()
        assert cells[:5] == [
            listed["id"],
            socket.gethostname(),
            str(job_pid),
            "critical,default",
            "1",
        ]
        assert cells[7] == "UTC" and cells[10] == "UTC"
    finally:
        release.touch()
        worker.stop()
    assert worker.proc.returncode == 0, worker.text()
    assert _workers(backend) == []  # a worker that stopped cleanly is gone
    assert activejob_cli("workers", "--adapter", backend.url).stdout == "no live workers\n"

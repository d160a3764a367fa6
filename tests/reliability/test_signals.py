"""Signals from outside under load, through the real ``activejob worker`` command:
the supervisor killed alone, and Ctrl-C twice while many jobs run."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobFilter, JobState, Storage
from tests.acceptance.test_worker_cli import CLI
from tests.reliability.chaos_support import chaos
from tests.support import job_state, wait_for
from tests.worker.jobs import WaitForFile

IMPORT = ("--import", "tests.reliability.chaos_support")  # the ledger jobs


@pytest.fixture
def url(tmp_path: Path) -> str:
    address = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=address)
    return address


@pytest.fixture
def storage(url: str) -> Iterator[Storage]:
    built: Storage = storage_of(url)
    built.migrate()
    yield built


@pytest.fixture
def workers() -> Iterator[list[CLI]]:
    started: list[CLI] = []
    yield started
    for cli in started:
        if cli.proc.poll() is None:
            os.killpg(cli.proc.pid, signal.SIGKILL)
            cli.proc.wait(10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by a dead parent's init) counts as gone.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def succeeded(storage: Storage) -> int:
    return len(storage.list(JobFilter(states=[JobState.SUCCEEDED], limit=None)))


def test_children_of_a_killed_supervisor_drain_and_exit_on_their_own(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    log, release = tmp_path / "runs.log", tmp_path / "release"
    stuck = WaitForFile.perform_later(log, "stuck", release)
    flags = ("--processes", "2", "--shutdown-timeout", "1")
    first = CLI(tmp_path, url, *flags, group=True)
    workers.append(first)
    wait_for(lambda: len(lines(log)) == 1, timeout=20)
    wait_for(lambda: len(chaos.children(first.proc.pid)) == 2)
    kids = chaos.children(first.proc.pid)

    os.kill(first.proc.pid, signal.SIGKILL)  # the supervisor alone
    first.proc.wait(5)

    # Each child sees its supervisor's pipe close and drains: the running job gets
    # --shutdown-timeout, then goes back to ready; nothing runs unsupervised on.
    wait_for(lambda: not any(alive(pid) for pid in kids), timeout=20)
    assert first.text().count("the supervisor is gone: draining") == 2, first.text()
    wait_for(lambda: job_state(storage, stuck.job_id) is JobState.READY, timeout=5)

    release.touch()
    second = CLI(tmp_path, url)
    workers.append(second)
    wait_for(lambda: job_state(storage, stuck.job_id) is JobState.SUCCEEDED, timeout=20)
    assert [line.split()[0] for line in lines(log)][-2:] == ["stuck:started", "stuck"]
    second.stop()


def test_a_second_sigint_under_load_loses_nothing(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    ledger = tmp_path / "ledger"
    jobs = [chaos.LedgerJob(str(ledger), 0.05) for _ in range(200)]
    activejob.perform_all_later(jobs)
    flags = (*IMPORT, "--processes", "2", "--threads", "4", "--shutdown-timeout", "30")
    first = CLI(tmp_path, url, *flags, group=True)
    workers.append(first)
    wait_for(lambda: len(lines(ledger)) >= 20, timeout=30)

    os.killpg(first.proc.pid, signal.SIGINT)  # Ctrl-C: the whole process group
    first.wait_for_output("stopping: draining", count=3)  # the supervisor, 2 children
    os.killpg(first.proc.pid, signal.SIGINT)
    assert first.wait(timeout=10) == 130, first.text()
    kids = {int(line.split()[1]) for line in lines(ledger)}
    wait_for(lambda: not any(alive(pid) for pid in kids))

    # What the killed processes held is recovered (after --recover-after); all run.
    second = CLI(tmp_path, url, *IMPORT, "--threads", "8")
    workers.append(second)
    wait_for(lambda: succeeded(storage) == len(jobs), timeout=60)
    second.stop()
    runs = chaos.read_ledger(ledger)
    assert {job.job_id for job in jobs} == set(runs)
    again = [job_id for job_id, job_runs in runs.items() if len(job_runs) > 1]
    # Only a job in flight in a process the second SIGINT killed runs twice.
    assert all(runs[job_id][0].pid in kids and len(runs[job_id]) == 2 for job_id in again)

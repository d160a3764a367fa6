"""Concurrency limits end to end: two real worker processes (``python -m activejob
worker``) on each real server, a ledger of every run's start and end.

- never more than N running per key, across both workers;
- kill -9 of the process holding the slot: the slot comes back on recovery and the
  blocked job runs (after the holder's rerun: at-least-once);
- blocked jobs start by priority, then in the order they were enqueued;
- ``activejob jobs show`` / ``jobs list --state blocked`` say which key blocks a job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import activejob
from activejob.storage.base import JobFilter, JobState
from tests.acceptance.cli_backends import Backend, backend, mysql_cli_database, pg_cli_database
from tests.acceptance.test_cli_jobs import activejob_cli
from tests.flow.concurrency_jobs import OnePerAccount, TwoPerAccount
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
# The backend fixture (one per server) and the session databases it takes.
__all__ = ["backend", "mysql_cli_database", "pg_cli_database"]


class Workers:
    """Worker processes started with ``python -m activejob worker``, stopped at the end."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url, self.tmp_path = url, tmp_path
        self.procs: list[subprocess.Popen[str]] = []

    def start(
        self, count: int = 2, threads: int = 3, imports: str = "tests.flow.concurrency_jobs"
    ) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
        env.pop("ACTIVEJOB_ADAPTER", None)
        for _ in range(count):
            out = (self.tmp_path / f"worker-{len(self.procs)}.out").open("w")
            command = [
                sys.executable, "-m", "activejob", "worker", "--adapter", self.url,
                "--import", imports, "--threads", str(threads),
                "--poll-interval", "0.2", "--heartbeat-interval", "0.5",
                "--recover-after", "3", "--no-scheduler", "--prefetch", "0",
            ]  # fmt: skip
            self.procs.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            )

    def output(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("worker-*.out")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def workers(backend: Backend, tmp_path: Path) -> Iterator[Workers]:
    activejob.configure(adapter=backend.url)
    running = Workers(backend.url, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def read_ledger(ledger: Path) -> list[tuple[str, str, str, float, int]]:
    if not ledger.exists():
        return []
    rows = []
    for line in ledger.read_text().splitlines():
        what, tag, key, at, pid = line.split()
        rows.append((what, tag, key, float(at), int(pid)))
    return sorted(rows, key=lambda row: row[3])


def most_at_once(rows: list[tuple[str, str, str, float, int]]) -> dict[str, int]:
    """The most runs in progress at once, per key."""
    now: dict[str, int] = {}
    most: dict[str, int] = {}
    for what, _, key, _, _ in rows:
        now[key] = now.get(key, 0) + (1 if what == "start" else -1)
        most[key] = max(most.get(key, 0), now[key])
    return most


def wait_for_workers(backend: Backend, count: int) -> None:
    wait_for(lambda: len(backend.storage.workers()) >= count, timeout=30)


def finished(backend: Backend, count: int) -> bool:
    done = backend.storage.list(JobFilter(states=[JobState.SUCCEEDED], limit=None))
    return len(done) >= count


def test_never_more_than_n_run_per_key_across_two_workers(
    backend: Backend, workers: Workers, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    workers.start(count=2, threads=2)
    wait_for_workers(backend, 2)
    jobs = [
        TwoPerAccount.perform_later(account, str(ledger), 0.15, f"{account}-{i}")
        for i in range(6)
        for account in ("acme", "globex")
    ]
    wait_for(lambda: finished(backend, len(jobs)), timeout=60)
    rows = read_ledger(ledger)
    assert len([r for r in rows if r[0] == "start"]) == len(jobs), workers.output()
    assert most_at_once(rows) == {"acme": 2, "globex": 2}
    assert len({pid for *_, pid in rows}) >= 2  # both worker processes took part


def test_a_killed_slot_holder_frees_its_slot_on_recovery(
    backend: Backend, workers: Workers, tmp_path: Path
) -> None:
    ledger, go = tmp_path / "ledger", tmp_path / "go"
    holder = OnePerAccount.perform_later("acme", str(ledger), "holder", until=str(go))
    waiter = OnePerAccount.perform_later("acme", str(ledger), "waiter")
    workers.start(count=2, threads=2)
    wait_for(lambda: any(r[1] == "holder" for r in read_ledger(ledger)), timeout=30)
    [(_, _, _, _, pid)] = [r for r in read_ledger(ledger) if r[1] == "holder"]
    os.kill(pid, signal.SIGKILL)
    go.touch()  # the holder's rerun finishes
    wait_for(lambda: finished(backend, 2), timeout=60)
    rows = read_ledger(ledger)
    starts = [(tag, p) for what, tag, _, _, p in rows if what == "start"]
    assert starts[0] == ("holder", pid) and starts[1][0] == "holder" and starts[1][1] != pid
    assert starts[2][0] == "waiter"
    # The killed run never ended; apart from it, one at a time.
    completed = [r for r in rows if not (r[1] == "holder" and r[4] == pid)]
    assert most_at_once(completed) == {"acme": 1}
    assert activejob.status(holder.job_id).crashes == 1  # type: ignore[union-attr]
    assert activejob.status(waiter.job_id).state is JobState.SUCCEEDED  # type: ignore[union-attr]


def test_blocked_jobs_start_by_priority_then_first_enqueued(
    backend: Backend, workers: Workers, tmp_path: Path
) -> None:
    ledger, go = tmp_path / "ledger", tmp_path / "go"
    OnePerAccount.perform_later("acme", str(ledger), "holder", until=str(go))
    OnePerAccount.set(priority=5).perform_later("acme", str(ledger), "low")
    OnePerAccount.set(priority=0).perform_later("acme", str(ledger), "first")
    OnePerAccount.set(priority=0).perform_later("acme", str(ledger), "second")
    workers.start(count=2, threads=2)
    wait_for(lambda: any(r[1] == "holder" for r in read_ledger(ledger)), timeout=30)
    go.touch()
    wait_for(lambda: finished(backend, 4), timeout=60)
    starts = [tag for what, tag, *_ in read_ledger(ledger) if what == "start"]
    assert starts == ["holder", "first", "second", "low"]


def test_the_cli_says_which_key_blocks_a_job(backend: Backend, tmp_path: Path) -> None:
    activejob.configure(adapter=backend.url)
    ledger = str(tmp_path / "ledger")
    OnePerAccount.perform_later("acme", ledger, "holder")
    waiter = OnePerAccount.perform_later("acme", ledger, "waiter")
    key = f"{OnePerAccount.job_class_name}/acme"
    shown = activejob_cli("jobs", "show", waiter.job_id, "--adapter", backend.url)
    assert shown.returncode == 0, shown.stderr
    assert "state:        blocked" in shown.stdout
    assert f"blocked_by:   {key}" in shown.stdout
    assert f"waiting:      for a slot of concurrency key {key!r}" in shown.stdout
    listed = activejob_cli("jobs", "list", "--state", "blocked", "--adapter", backend.url, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(j["job_id"], j["blocked_by"]) for j in json.loads(listed.stdout)] == [
        (waiter.job_id, key)
    ]
    info = activejob.status(waiter.job_id)
    assert info is not None and (info.state, info.blocked_by) == (JobState.BLOCKED, key)

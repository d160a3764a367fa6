"""Recurring tasks as an operator runs them: three real ``activejob worker``
supervisors with a ``--recurring`` file on each server, and ``activejob recurring``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from activejob import _time
from activejob.storage.base import JobFilter
from activejob.testing.contract import FakeClock
from tests.acceptance.cli_backends import Backend, backend, pg_cli_database
from tests.acceptance.test_cli_jobs import activejob_cli
from tests.support import wait_for

__all__ = ["backend", "pg_cli_database"]

ROOT = Path(__file__).resolve().parents[2]

SCHEDULE = """
[every-second]
job = "tests.recurring.jobs:poll_feeds"
schedule = "every 1 second"

[heartbeat]
job = "tests.recurring.jobs:poll_feeds"
schedule = "every 1 second"
queue = "heartbeat"

[nightly-cleanup]
job = "tests.recurring.jobs:CleanupJob"
schedule = "30 2 * * *"
args = [30]
queue = "low"
timezone = "America/New_York"
"""


def start_worker(tmp_path: Path, url: str, schedule: Path, *flags: str) -> subprocess.Popen[str]:
    output = (tmp_path / f"worker-{len(list(tmp_path.glob('worker-*')))}.out").open("w")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    env.pop("ACTIVEJOB_ADAPTER", None)
    command = [
        sys.executable, "-m", "activejob", "worker", "--adapter", url,
        "--import", "tests.recurring.jobs", "--recurring", str(schedule),
        "--threads", "1", "--poll-interval", "0.1", *flags,
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True
    )


def runs(backend: Backend) -> Counter[tuple[str, str | None]]:
    found: Counter[tuple[str, str | None]] = Counter()
    for info in backend.storage.list(JobFilter(limit=None)):
        run = info.payload["metadata"]["recurring"]
        found[(run["key"], run["run_at"])] += 1
    return found


def count(backend: Backend, key: str) -> int:
    return sum(n for (k, _), n in runs(backend).items() if k == key)


def stop(workers: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            assert worker.wait(30) == 0
        except (subprocess.TimeoutExpired, AssertionError):
            worker.kill()
            outputs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("worker-*")))
            raise AssertionError(f"a worker did not drain cleanly:\n{outputs}") from None


def test_three_supervisors_enqueue_each_run_once_and_obey_pause(
    backend: Backend, tmp_path: Path
) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(SCHEDULE)
    workers = [start_worker(tmp_path, backend.url, schedule) for _ in range(3)]
    try:
        wait_for(lambda: count(backend, "every-second") >= 4, timeout=30)
        listed = activejob_cli("recurring", "list", "--adapter", backend.url, "--json")
        assert listed.returncode == 0, listed.stderr
        tasks = {task["key"]: task for task in json.loads(listed.stdout)}
        assert sorted(tasks) == ["every-second", "heartbeat", "nightly-cleanup"]
        assert tasks["nightly-cleanup"]["queue_name"] == "low"
        assert tasks["nightly-cleanup"]["timezone"] == "America/New_York"
        assert tasks["nightly-cleanup"]["next_run_at"]
        assert not tasks["every-second"]["paused"] and not tasks["every-second"]["orphaned"]

        paused = activejob_cli("recurring", "pause", "every-second", "--adapter", backend.url)
        assert paused.returncode == 0 and "paused" in paused.stdout
        # Every scheduler reads the flag each tick: at most a tick in flight still lands,
        # while the unpaused heartbeat task goes on for three more runs.
        settled = count(backend, "every-second")
        beats = count(backend, "heartbeat")
        manual = activejob_cli("recurring", "run", "nightly-cleanup", "--adapter", backend.url)
        assert manual.returncode == 0, manual.stderr
        wait_for(lambda: backend.storage.list(JobFilter(queue_name="low"))[0].state.finished, 20)
        wait_for(lambda: count(backend, "heartbeat") >= beats + 3, timeout=30)
        after_pause = count(backend, "every-second")
        assert after_pause - settled <= 1
        resumed = activejob_cli("recurring", "resume", "every-second", "--adapter", backend.url)
        assert resumed.returncode == 0
        wait_for(lambda: count(backend, "every-second") >= after_pause + 3, timeout=30)
    finally:
        stop(workers, tmp_path)
    found = runs(backend)
    scheduled = {run: n for run, n in found.items() if run[0] in ("every-second", "heartbeat")}
    duplicates = sum(n - 1 for n in scheduled.values())
    print(
        f"\n[recurring processes] backend={backend.name} supervisors=3 "
        f"runs={len(scheduled)} jobs={sum(scheduled.values())} duplicates={duplicates}"
    )
    assert duplicates == 0
    assert found[("nightly-cleanup", None)] == 1  # the manual run
    # Every job ran: the workers performed what the schedulers enqueued.
    states = {info.state.value for info in backend.storage.list(JobFilter(limit=None))}
    assert states <= {"succeeded", "ready", "running"}


def test_no_scheduler_means_no_runs_and_a_bad_file_exits_2(
    backend: Backend, tmp_path: Path
) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(SCHEDULE)
    quiet = start_worker(tmp_path, backend.url, schedule, "--no-scheduler")
    marker = start_worker(tmp_path, backend.url, tmp_path / "missing.toml")
    assert marker.wait(30) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[x]\njob = "tests.recurring.jobs:Missing"\nschedule = "@daily"\n')
    broken = start_worker(tmp_path, backend.url, bad)
    assert broken.wait(30) == 2
    outputs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("worker-*")))
    assert "cannot read the recurring tasks file" in outputs and "has no Missing" in outputs
    stop([quiet], tmp_path)
    assert backend.storage.recurring_tasks() == [] and runs(backend) == Counter()


def test_list_shows_orphans_and_unknown_keys_fail(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from activejob.recurring.task import build_task
    from tests.recurring.jobs import CleanupJob

    clock = FakeClock(_time.now() - 3600)  # declared an hour ago, by a scheduler long gone
    monkeypatch.setattr(_time, "now", clock)
    backend.storage.declare_recurring([build_task("gone", CleanupJob, schedule="@daily").spec()])
    monkeypatch.undo()
    listed = activejob_cli("recurring", "list", "--adapter", backend.url)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split()[:6] == ["KEY", "SCHEDULE", "TIMEZONE", "JOB", "QUEUE", "STATE"]
    assert row.split()[0] == "gone" and "orphaned" in row.split()
    for action in ("run", "pause", "resume"):
        missing = activejob_cli("recurring", action, "nope", "--adapter", backend.url)
        assert missing.returncode == 1
        assert "no recurring task 'nope' (known: gone)" in missing.stderr


def test_run_with_the_class_imported_honours_its_unique_key(backend: Backend) -> None:
    from activejob.recurring.task import build_task
    from tests.recurring.jobs import UniqueReportJob

    task = build_task("report", UniqueReportJob, schedule="@daily")
    backend.storage.declare_recurring([task.spec()])
    run = ["recurring", "run", "report", "--adapter", backend.url, "--json"]
    first = activejob_cli(*run, "--import", "tests.recurring.jobs")
    assert first.returncode == 0, first.stderr
    held = json.loads(first.stdout)
    assert held["duplicate_of"] is None
    again = activejob_cli(*run[:-1], "--import", "tests.recurring.jobs")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        f"not enqueued: job {held['job_id']} holds the unique key of task report"
    )
    assert len(backend.storage.list(JobFilter(limit=None))) == 1
    # Without the class, the stored payload is enqueued as it is: no unique key.
    plain = activejob_cli(*run)
    assert plain.returncode == 0, plain.stderr
    assert len(backend.storage.list(JobFilter(limit=None))) == 2

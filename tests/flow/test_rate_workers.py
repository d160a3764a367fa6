"""Rate limits end to end on every durable backend: two real worker processes
(``python -m activejob worker``) hold the limit, a worker killed with -9 loses no
job, an idle worker does not poll while only held jobs wait, and the CLI says
until when a job is held."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import activejob
from activejob import events
from activejob.adapters.durable import storage_of
from activejob.cli.common import format_time
from activejob.flow.rate import GRAIN
from activejob.storage.base import JobState, Storage
from activejob.worker import WorkerOptions
from tests.flow import rate_jobs
from tests.flow.rate_jobs import Limited, OncePerMinute, SlowLimited, WakesOnTime
from tests.support import wait_for
from tests.worker.conftest import working
from tests.worker_command import WorkerCommand

ROOT = Path(__file__).resolve().parents[2]
IDLE = WorkerOptions(
    threads=2, poll_interval=30.0, heartbeat_interval=0.2, recover_after=1.0, shutdown_timeout=5.0
)
"""A worker that would poll only every 30 s: anything faster was a wake-up."""
JITTER = 0.05
"""Seconds two clocks of this machine may disagree by, read by two processes."""


class CLIWorker(WorkerCommand):
    """``python -m activejob worker`` in a process of its own, polling every 30 s only."""

    def __init__(self, tmp_path: Path, url: str, name: str) -> None:
        super().__init__(
            tmp_path / f"{name}.out", url, "--import", "tests.flow.rate_jobs", "--threads", "4",
            "--poll-interval", "30", "--heartbeat-interval", "0.2", "--recover-after", "1",
        )  # fmt: skip


@pytest.fixture
def url(backend_url: str) -> str:
    activejob.configure(adapter=backend_url)
    return backend_url


@pytest.fixture
def storage(url: str) -> Storage:
    built: Storage = storage_of(url)
    built.migrate()
    return built


@pytest.fixture
def workers(tmp_path: Path, url: str) -> Iterator[list[CLIWorker]]:
    started: list[CLIWorker] = []
    yield started
    for worker in started:
        worker.stop()


def ledger(path: Path) -> list[tuple[str, int, float]]:
    """The runs the jobs noted: (label, pid, start time), in start order."""
    if not path.exists():
        return []
    runs = []
    for line in path.read_text().splitlines():
        label, pid, at = line.split()
        runs.append((label, int(pid), float(at)))
    return sorted(runs, key=lambda run: run[2])


def most_in_a_window(times: Sequence[float], per: float) -> int:
    """The most of ``times`` inside any half-open window ``[t, t + per)``."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - per:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_two_worker_processes_hold_the_limit_in_every_window(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLIWorker]
) -> None:
    path = tmp_path / "ledger"
    jobs = [Limited.perform_later(str(path), f"j{i}") for i in range(12)]
    workers += [CLIWorker(tmp_path, url, "a"), CLIWorker(tmp_path, url, "b")]
    wait_for(lambda: len(ledger(path)) == 12, timeout=30)
    wait_for(lambda: all(storage.get(j.job_id).state is JobState.SUCCEEDED for j in jobs))  # type: ignore[union-attr]
    runs = ledger(path)
    assert sorted(label for label, _, _ in runs) == sorted(f"j{i}" for i in range(12))
    # The store's own start times (the claims) hold the limit exactly. Each job's own
    # clock reads a moment after its claim, by a delay that varies with the machine's
    # load (a batch claimed at a window's end may run sooner after its claim than the
    # batch before it): within one job per window, less that measured spread.
    claimed = {f"j{i}": storage.get(j.job_id).started_at.timestamp() for i, j in enumerate(jobs)}  # type: ignore[union-attr]
    assert most_in_a_window(list(claimed.values()), rate_jobs.PER) <= rate_jobs.N
    delays = [at - claimed[label] for label, _, at in runs]
    spread = max(delays) - min(delays)
    assert min(delays) > -JITTER and spread < 0.5  # the clocks agree; runs follow claims
    starts = [at for _, _, at in runs]
    assert most_in_a_window(starts, rate_jobs.PER - spread) <= rate_jobs.N + 1
    # 12 jobs at 3 a second take three windows more than the first, and no polling
    # (every 30 s) explains finishing in time: the workers woke as windows freed.
    assert starts[-1] - starts[0] >= 3 * rate_jobs.PER - spread
    assert starts[-1] - starts[0] < 10
    assert all(worker.stop() == 0 for worker in workers)


def test_a_worker_killed_with_sigkill_mid_window_loses_no_job(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLIWorker]
) -> None:
    path = tmp_path / "ledger"
    jobs = [SlowLimited.perform_later(str(path), f"s{i}") for i in range(5)]
    workers += [CLIWorker(tmp_path, url, "a"), CLIWorker(tmp_path, url, "b")]
    wait_for(lambda: len(ledger(path)) >= 1, timeout=20)
    victim_label, victim_pid, _ = ledger(path)[0]
    os.kill(victim_pid, signal.SIGKILL)  # a child process, mid-run and mid-window
    wait_for(
        lambda: all(storage.get(j.job_id).state is JobState.SUCCEEDED for j in jobs),  # type: ignore[union-attr]
        timeout=60,
    )
    labels = [label for label, _, _ in ledger(path)]
    assert set(labels) == {f"s{i}" for i in range(5)}
    assert labels.count(victim_label) >= 2  # its job ran again
    claimed = [storage.get(j.job_id).started_at.timestamp() for j in jobs]  # type: ignore[union-attr]
    assert most_in_a_window(claimed, 3.0) <= 2


def test_an_idle_worker_sleeps_while_only_held_jobs_wait(
    tmp_path: Path, url: str, storage: Storage
) -> None:
    path = tmp_path / "ledger"
    jobs = [OncePerMinute.perform_later(str(path), f"m{i}") for i in range(3)]
    claims: list[float] = []
    original = storage.claim

    def counted(*args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        claims.append(time.monotonic())
        return original(*args, **kwargs)  # type: ignore[arg-type]

    held: list[events.Event] = []
    events.subscribe("rate_limited", held.append)
    storage.claim = counted  # type: ignore[method-assign]
    try:
        with working(url, IDLE):
            wait_for(lambda: len(ledger(path)) == 1, timeout=10)
            wait_for(lambda: len(held) >= 2, timeout=10)
            seen = len(claims)
            time.sleep(1.5)  # sleep-ok: measuring how often an idle worker claims
            idle_claims = len(claims) - seen
    finally:
        storage.claim = original  # type: ignore[method-assign]
        events.unsubscribe("rate_limited", held.append)
    # A busy loop would claim thousands of times; a sleeping worker, not at all (a
    # heartbeat or one spurious wake-up at most).
    assert idle_claims <= 2
    assert {e.extra["job_id"] for e in held} == {jobs[1].job_id, jobs[2].job_id}
    assert all(e.extra["keys"] == ["minute"] for e in held)
    assert storage.get(jobs[1].job_id).state is JobState.READY  # type: ignore[union-attr]


def test_a_sleeping_worker_wakes_when_the_window_frees(
    tmp_path: Path, url: str, storage: Storage
) -> None:
    path = tmp_path / "ledger"
    for i in range(2):
        WakesOnTime.perform_later(str(path), f"w{i}")
    with working(url, IDLE):
        wait_for(lambda: len(ledger(path)) == 2, timeout=10)
    first, second = (at for _, _, at in ledger(path))
    assert 1.5 - 0.05 <= second - first < 1.5 + 1.0  # woken by the window, not a poll


def test_status_and_jobs_show_say_until_when_a_job_is_held(url: str, storage: Storage) -> None:
    first = OncePerMinute.perform_later("/dev/null", "first")
    second = OncePerMinute.perform_later("/dev/null", "second")
    assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [first.job_id]
    info = activejob.status(second.job_id)
    assert info is not None and info.state is JobState.READY
    assert info.rate_limited_until is not None
    assert 55 < info.rate_limited_until.timestamp() - time.time() <= 60 + 60 / GRAIN
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    shown = subprocess.run(
        [sys.executable, "-m", "activejob", "jobs", "show", second.job_id, "--adapter", url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert f"rate limited until {format_time(info.rate_limited_until)}" in shown.stdout
    assert "rate limited" not in subprocess.run(
        [sys.executable, "-m", "activejob", "jobs", "show", first.job_id, "--adapter", url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip

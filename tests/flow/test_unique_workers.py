"""Unique jobs against two real worker commands (``activejob worker``, each a
supervisor and its process) on every backend and its real server: ``until="started"``
frees the key when a worker starts the job, ``until="finished"`` holds it through
the run, and a kill -9 of the process running an ``until="finished"`` job leaves the
key protected through recovery until the job finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from activejob.storage.base import JobState, Storage
from tests.flow.unique_jobs import UntilFinished, UntilStarted, runs, started
from tests.support import wait_for
from tests.worker.test_crashes import storage, url  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def worker(tmp_path: Path, address: str, name: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "activejob", "worker",
        "--adapter", address,
        "--import", "tests.flow.unique_jobs",
        "--threads", "2",
        "--prefetch", "0",  # a claimed job has started, for the store: claim no spare
        "--poll-interval", "0.05",
        "--heartbeat-interval", "0.2",
        "--recover-after", "1",
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    with (tmp_path / f"{name}.out").open("w") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def workers(tmp_path: Path, url: str) -> Iterator[list[subprocess.Popen[bytes]]]:  # noqa: F811
    procs = [worker(tmp_path, url, "a"), worker(tmp_path, url, "b")]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)


def state(storage: Storage, job_id: str) -> JobState | None:  # noqa: F811
    info = storage.get(job_id)
    return None if info is None else info.state


def until(condition: Callable[[], object], tmp_path: Path, timeout: float) -> None:
    """``wait_for``, failing with what the workers printed."""
    try:
        wait_for(condition, timeout=timeout)
    except AssertionError as exc:
        printed = "\n".join((tmp_path / f"{n}.out").read_text() for n in "ab")
        raise AssertionError(f"{exc}\n{printed}") from None


def test_two_workers_keep_the_keys(
    tmp_path: Path,
    storage: Storage,  # noqa: F811
    workers: list[subprocess.Popen[bytes]],
) -> None:
    log, release_f, release_s = tmp_path / "runs.log", tmp_path / "f", tmp_path / "s"
    first = UntilFinished.perform_later(log, "f1", release_f)
    until(lambda: started(log, "f1"), tmp_path, 30)
    # Running, with a second worker idle: until="finished" still holds the key.
    second = UntilFinished.perform_later(log, "f2", release_f)
    assert not second.successfully_enqueued and second.duplicate_of == first.job_id

    s1 = UntilStarted.perform_later(log, "s1", release_s)
    until(lambda: started(log, "s1"), tmp_path, 30)
    # Started: until="started" freed the key, and the new one runs beside it.
    s2 = UntilStarted.perform_later(log, "s2", release_s)
    assert s2.successfully_enqueued and s2.duplicate_of is None
    until(lambda: started(log, "s2"), tmp_path, 30)

    release_f.touch()
    wait_for(lambda: state(storage, first.job_id) is JobState.SUCCEEDED, timeout=30)
    third = UntilFinished.perform_later(log, "f3", release_f)
    assert third.successfully_enqueued
    release_s.touch()
    for job in (third, s1, s2):
        wait_for(lambda job=job: state(storage, job.job_id) is JobState.SUCCEEDED, timeout=30)
    lines = log.read_text().splitlines()
    labels = [line.split()[0] for line in lines]
    assert labels.index("f1:done") < labels.index("f3:started")
    assert "f2:started" not in labels
    assert labels.index("s2:started") < labels.index("s1:done")


def test_a_killed_holder_keeps_its_key_through_recovery(
    tmp_path: Path,
    storage: Storage,  # noqa: F811
    workers: list[subprocess.Popen[bytes]],
) -> None:
    log, release = tmp_path / "runs.log", tmp_path / "release"
    holder = UntilFinished.perform_later(log, "k1", release)
    until(lambda: started(log, "k1"), tmp_path, 30)
    [pid] = runs(log, "k1")
    os.kill(int(pid), signal.SIGKILL)
    # Dead but not yet recovered (still running in the store), then recovered: the
    # job went back to ready and ran again elsewhere, and still holds its key.
    early = UntilFinished.perform_later(log, "k2", release)
    assert not early.successfully_enqueued and early.duplicate_of == holder.job_id
    until(lambda: len(runs(log, "k1")) == 2, tmp_path, 40)
    info = storage.get(holder.job_id)
    assert info is not None and info.crashes == 1 and info.unique_held
    later = UntilFinished.perform_later(log, "k3", release)
    assert not later.successfully_enqueued and later.duplicate_of == holder.job_id
    release.touch()
    wait_for(lambda: state(storage, holder.job_id) is JobState.SUCCEEDED, timeout=30)
    after = UntilFinished.perform_later(log, "k4", release)
    assert after.successfully_enqueued
    wait_for(lambda: state(storage, after.job_id) is JobState.SUCCEEDED, timeout=30)
    labels = [line.split()[0] for line in log.read_text().splitlines()]
    assert "k2:started" not in labels and "k3:started" not in labels

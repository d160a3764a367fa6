"""``activejob worker`` as a user runs it: a real supervisor and worker processes,
real signals, a real SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobState, Storage
from tests.support import wait_for
from tests.worker.jobs import AppendLine, DiesFirstTime, KillsItsWorker, WaitForFile

ROOT = Path(__file__).resolve().parents[2]


class CLI:
    """One ``python -m activejob worker`` process, its output in a file."""

    def __init__(self, tmp_path: Path, url: str, *flags: str, group: bool = False) -> None:
        self.output = tmp_path / f"worker-{len(list(tmp_path.glob('worker-*')))}.out"
        command = [
            sys.executable, "-m", "activejob", "worker",
            "--adapter", url,
            "--import", "tests.worker.jobs",
            "--poll-interval", "0.05",
            "--heartbeat-interval", "0.2",
            "--recover-after", "1",
            *flags,
        ]  # fmt: skip
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
        with self.output.open("w") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=group,
            )  # fmt: skip

    def text(self) -> str:
        return self.output.read_text()

    def wait_for_output(self, words: str, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until the output holds ``words`` ``count`` times; show it if not."""
        try:
            wait_for(lambda: self.text().count(words) >= count, timeout=timeout)
        except AssertionError:
            raise AssertionError(f"{words!r} x{count} not in the output:\n{self.text()}") from None

    def wait(self, timeout: float = 20.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the worker did not exit in {timeout}s:\n{self.text()}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.wait()


@pytest.fixture
def url(tmp_path: Path) -> str:
    address = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=address)
    return address


@pytest.fixture
def storage(url: str) -> Storage:
    built: Storage = storage_of(url)
    built.migrate()
    return built


@pytest.fixture
def workers() -> Iterator[list[CLI]]:
    started: list[CLI] = []
    yield started
    for cli in started:
        if cli.proc.poll() is None:
            cli.proc.kill()
            cli.proc.wait(5)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def state(storage: Storage, job_id: str) -> JobState | None:
    info = storage.get(job_id)
    return None if info is None else info.state


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def test_burst_with_two_processes_runs_every_job_once(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    log = tmp_path / "runs.log"
    queued = [AppendLine.perform_later(log, f"job{n}") for n in range(20)]

    cli = CLI(tmp_path, url, "--burst", "--processes", "2", "--burst-horizon", "0")
    workers.append(cli)

    assert cli.wait() == 0, cli.text()
    assert sorted(line.split()[0] for line in lines(log)) == sorted(f"job{n}" for n in range(20))
    assert all(state(storage, job.job_id) is JobState.SUCCEEDED for job in queued)


def test_queues_flag_serves_queues_in_order_with_wildcards_and_no_others(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    log = tmp_path / "runs.log"
    # Enqueued in the opposite of the order they must run in.
    left_alone = [
        AppendLine.set(queue=queue).perform_later(log, queue) for queue in ("default", "email")
    ]
    mail = [
        AppendLine.set(queue=queue).perform_later(log, queue)
        for queue in ("mailers", "mail", "mail_digest")
    ]
    critical = [AppendLine.set(queue="critical").perform_later(log, f"critical{n}") for n in (1, 2)]

    cli = CLI(
        tmp_path, url, "--burst", "--burst-horizon", "0", "--threads", "1", "--prefetch", "0",
        "--queues", "critical,mail*",
    )  # fmt: skip
    workers.append(cli)

    assert cli.wait() == 0, cli.text()
    assert [line.split()[0] for line in lines(log)] == [
        "critical1", "critical2", "mailers", "mail", "mail_digest",
    ]  # fmt: skip
    assert all(state(storage, j.job_id) is JobState.SUCCEEDED for j in critical + mail)
    assert [state(storage, j.job_id) for j in left_alone] == [JobState.READY] * 2


def test_kill_9_mid_job_releases_it_and_it_runs_again(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    log = tmp_path / "runs.log"
    job = DiesFirstTime.perform_later(log)
    cli = CLI(tmp_path, url)
    workers.append(cli)
    wait_for(lambda: len(lines(log)) == 1, timeout=10)
    first_pid = int(lines(log)[0].split()[1])

    os.kill(first_pid, signal.SIGKILL)

    wait_for(lambda: state(storage, job.job_id) is JobState.SUCCEEDED, timeout=15)
    runs = lines(log)
    assert [run.split()[0] for run in runs] == ["first", "again"]
    assert int(runs[1].split()[1]) != first_pid  # a restarted worker process ran it
    info = storage.get(job.job_id)
    assert info is not None and info.attempts == 2
    assert "restarting" in cli.text()
    cli.stop()
    assert cli.proc.returncode == 0, cli.text()


def test_a_job_that_keeps_killing_its_worker_is_failed_as_poison(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    log = tmp_path / "runs.log"
    job = KillsItsWorker.perform_later(log)
    cli = CLI(tmp_path, url, "--max-crashes", "1")
    workers.append(cli)

    wait_for(lambda: state(storage, job.job_id) is JobState.FAILED, timeout=20)

    assert len(lines(log)) == 2  # died once, ran again, died again: failed
    info = storage.get(job.job_id)
    assert info is not None and info.error is not None
    assert info.error.exception_class == "activejob.storage.base.WorkerLostError"
    cli.stop()
    assert cli.proc.returncode == 0, cli.text()


def test_sigterm_drains(tmp_path: Path, url: str, storage: Storage, workers: list[CLI]) -> None:
    log, release = tmp_path / "runs.log", tmp_path / "release"
    running = WaitForFile.set(priority=0).perform_later(log, "running", release)
    waiting = [AppendLine.set(priority=5).perform_later(log, f"w{n}") for n in range(2)]
    cli = CLI(tmp_path, url, "--threads", "1", "--prefetch", "2", "--shutdown-timeout", "30")
    workers.append(cli)
    wait_for(lambda: any(line.startswith("running:started") for line in lines(log)), timeout=10)
    wait_for(lambda: all(state(storage, j.job_id) is JobState.RUNNING for j in waiting))

    cli.proc.send_signal(signal.SIGTERM)

    wait_for(lambda: all(state(storage, j.job_id) is JobState.READY for j in waiting))
    assert cli.proc.poll() is None  # the running job holds the drain open
    release.touch()
    assert cli.wait() == 0, cli.text()
    assert state(storage, running.job_id) is JobState.SUCCEEDED
    assert [line.split()[0] for line in lines(log)] == ["running:started", "running"]


def test_a_second_sigint_stops_at_once(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    log, release = tmp_path / "runs.log", tmp_path / "release"
    job = WaitForFile.perform_later(log, "stuck", release)
    cli = CLI(tmp_path, url, "--shutdown-timeout", "60", group=True)
    workers.append(cli)
    wait_for(lambda: len(lines(log)) == 1, timeout=10)
    child = int(lines(log)[0].split()[1])

    os.killpg(cli.proc.pid, signal.SIGINT)  # Ctrl-C: the whole process group
    cli.wait_for_output("stopping: draining", count=2)  # the supervisor and its child
    os.killpg(cli.proc.pid, signal.SIGINT)

    assert cli.wait(timeout=5) == 130, cli.text()
    wait_for(lambda: not alive(child))
    assert state(storage, job.job_id) is JobState.RUNNING  # left for recovery
    assert lines(log) == [f"stuck:started {child}"]


def test_children_that_keep_crashing_stop_the_supervisor(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    cli = CLI(tmp_path, url, "--import", "tests.worker.crash_on_import")
    workers.append(cli)

    assert cli.wait(timeout=30) == 1
    assert "giving up" in cli.text()
    assert cli.text().splitlines()[-1].endswith("supervisor stopped (exit status 1)")


def test_a_backend_without_storage_is_a_configuration_error(
    tmp_path: Path, url: str, workers: list[CLI]
) -> None:
    cli = CLI(tmp_path, "async:")
    workers.append(cli)

    assert cli.wait() == 2
    assert "keeps no jobs" in cli.text()


def test_a_job_the_worker_cannot_load_is_an_error_line_and_the_rest_run(
    tmp_path: Path, url: str, storage: Storage, workers: list[CLI]
) -> None:
    import json
    import sqlite3

    log = tmp_path / "runs.log"
    good, unknown, deep = (AppendLine.perform_later(log, name) for name in ("good", "x", "y"))
    payload = unknown.serialize()
    payload["job_class"] = "billing.jobs.Invoice"
    with sqlite3.connect(storage.path) as conn:  # type: ignore[attr-defined]
        update = "UPDATE activejob_jobs SET payload = ? WHERE job_id = ?"
        conn.execute(update, (json.dumps(payload), unknown.job_id))
        conn.execute(update, ("[" * 100_000, deep.job_id))

    cli = CLI(tmp_path, url, "--burst", "--burst-horizon", "0")
    workers.append(cli)

    assert cli.wait() == 0, cli.text()
    assert [line.split()[0] for line in lines(log)] == ["good"]
    output = cli.text()
    assert f"cannot load job {unknown.job_id} (class billing.jobs.Invoice)" in output
    assert "--import billing.jobs" in output
    assert f"cannot load job {deep.job_id} (class tests.worker.jobs.AppendLine)" in output
    assert "nested too deeply" in output and "Traceback" not in output
    assert state(storage, good.job_id) is JobState.SUCCEEDED
    assert state(storage, unknown.job_id) is JobState.FAILED
    assert state(storage, deep.job_id) is JobState.FAILED

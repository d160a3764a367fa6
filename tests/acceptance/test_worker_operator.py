"""What ``activejob`` tells the operator, run as a user runs it (a subprocess): the
worker's start line, drain, burst counts and ``stopped`` line, and one line with exit
status 2 for a setting that no retry can fix, on every command."""

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
from activejob.storage.base import Storage
from tests.acceptance.test_worker_cli import CLI
from tests.support import wait_for
from tests.worker.jobs import AppendLine, Broken, Flaky, WaitForFile
from tests.worker.operator_support import (
    BAD_SETTINGS,
    Discards,
    LeavesAProcessBehind,
    bad_url,
    free_port,
)

ROOT = Path(__file__).resolve().parents[2]
IMPORTS = ("--import", "tests.worker.jobs", "--import", "tests.worker.operator_support")


def activejob_cli(
    *args: str, cwd: Path = ROOT, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    env.pop("ACTIVEJOB_ADAPTER", None)
    return subprocess.run(
        [sys.executable, "-m", "activejob", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def workers() -> Iterator[list[CLI]]:
    started: list[CLI] = []
    yield started
    for cli in started:
        if cli.proc.poll() is None:
            cli.proc.kill()
            cli.proc.wait(5)


@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_the_worker_exits_2_with_one_error_line(case: str, tmp_path: Path) -> None:
    address, words = bad_url(case, tmp_path)

    result = activejob_cli("worker", "--adapter", address, "--processes", "2", *IMPORTS)

    output = result.stderr + result.stdout
    assert result.returncode == 2, output
    assert "Traceback" not in output and "restarting" not in output
    assert "is the database server running" not in output
    (error,) = [line for line in output.splitlines() if words in line]
    assert " ERROR activejob.worker: worker process " in error and " cannot run: " in error
    assert output.splitlines()[-1].endswith("supervisor stopped (exit status 2)")


# A read-only command on a SQLite file that does not exist (whatever its folder) is
# another story: it says so and exits 1.
OTHER_COMMANDS = [
    pytest.param(case, command, id=f"{case}-{'-'.join(command)}")
    for case in BAD_SETTINGS
    for command in (["jobs", "list"], ["queues", "list"], ["migrate"])
    if not (case.startswith("sqlite") and command != ["migrate"])
]


@pytest.mark.parametrize(("case", "command"), OTHER_COMMANDS)
def test_the_other_commands_exit_2_with_one_error_line(
    case: str, command: list[str], tmp_path: Path
) -> None:
    address, words = bad_url(case, tmp_path)

    result = activejob_cli(*command, "--adapter", address)

    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"activejob {' '.join(command)}: error: ") and words in line
    assert "is the database server running" not in line


def test_a_server_that_is_not_listening_gets_the_hint_and_status_1() -> None:
    result = activejob_cli("jobs", "list", "--adapter", f"redis://127.0.0.1:{free_port()}/0")

    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.endswith("(is the database server running?)")


def test_a_burst_on_two_processes_logs_its_start_total_and_stop(tmp_path: Path) -> None:
    address = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=address)
    storage: Storage = storage_of(address)
    storage.migrate()
    log = tmp_path / "runs.log"
    for n in range(10):
        AppendLine.perform_later(log, f"job{n}")
    Broken.perform_later("boom")
    Flaky.perform_later("flaky", 1)
    Discards.perform_later()

    # A relative path, from the folder the file is in: the lines name it in full.
    result = activejob_cli(
        "worker", "--adapter", "sqlite:///jobs.sqlite3", *IMPORTS, "--burst",
        "--processes", "2", "--threads", "2", "--queues", "default,*", cwd=tmp_path,
    )  # fmt: skip

    output = result.stderr.splitlines()
    assert result.returncode == 0, result.stderr
    assert output[0].endswith(
        f"activejob worker starting: backend sqlite:///{tmp_path / 'jobs.sqlite3'}, "
        "queues default,*, imports tests.worker.jobs,tests.worker.operator_support, "
        "2 processes, 2 threads each, burst"
    )
    for slot in ("process 1 of 2", "process 2 of 2"):
        assert any(f"backend sqlite:///{tmp_path}" in line and slot in line for line in output)
    assert output[-2].endswith(
        "burst done: ran 14 jobs: 11 succeeded, 1 failed, 1 retried, 1 discarded (2 processes)"
    )
    assert output[-1].endswith("supervisor stopped")


@pytest.mark.parametrize(
    "address",
    [
        "redis://:s3cret@127.0.0.1:{port}/0",
        "postgresql://app:s3cret@127.0.0.1:{port}/app",
        "mysql://app:s3cret@127.0.0.1:{port}/app",
    ],
)
def test_the_start_line_masks_the_password_and_sigterm_logs_stopped(
    address: str, tmp_path: Path, workers: list[CLI]
) -> None:
    cli = CLI(tmp_path, address.format(port=free_port()))  # nothing listens: it keeps retrying
    workers.append(cli)
    masked = address.replace("s3cret", "***").split("{port}")[0]
    cli.wait_for_output(f"activejob worker starting: backend {masked}")

    cli.wait_for_output("registering the worker failed")
    cli.proc.send_signal(signal.SIGTERM)

    assert cli.wait() == 0, cli.text()
    assert "s3cret" not in cli.text()
    assert cli.text().splitlines()[-1].endswith("supervisor stopped")


def test_sigterm_says_what_the_drain_waits_for(tmp_path: Path, workers: list[CLI]) -> None:
    address = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=address)
    log, release = tmp_path / "runs.log", tmp_path / "release"
    WaitForFile.perform_later(log, "running", release)
    cli = CLI(tmp_path, address, "--shutdown-timeout", "30")
    workers.append(cli)
    wait_for(lambda: log.exists() and "running:started" in log.read_text(), timeout=10)

    cli.proc.send_signal(signal.SIGTERM)
    cli.wait_for_output("draining: waiting up to 30s for 1 running job")
    release.touch()

    assert cli.wait() == 0, cli.text()
    assert "drained: 1 job finished" in cli.text()
    assert cli.text().splitlines()[-1].endswith("supervisor stopped")


def test_a_process_a_job_left_behind_does_not_hold_the_supervisor(tmp_path: Path) -> None:
    address = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=address)
    pid_file = tmp_path / "sleeper.pid"
    LeavesAProcessBehind.perform_later(pid_file)
    # The sleeper holds a copy of the child's report pipe (and of its output) for 60s.
    cli = CLI(tmp_path, address, "--import", "tests.worker.operator_support", "--burst")
    try:
        status = cli.wait(timeout=20)
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)

    assert status == 0, cli.text()
    assert (
        cli.text()
        .splitlines()[-2]
        .endswith(
            "burst done: ran 1 job: 1 succeeded, 0 failed, 0 retried, 0 discarded (1 process)"
        )
    )

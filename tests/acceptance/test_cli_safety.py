"""What keeps an operator from hurting the store by accident: read commands never
create a SQLite file, ``--all`` with no filter asks first, a queue never seen is
paused with a warning, and a file given for ``--import`` or ``--adapter`` gets the
right spelling back."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from activejob.storage.base import ErrorInfo, JobFilter, JobState, Result
from activejob.testing.contract import new_job
from tests.acceptance.cli_backends import Backend, backend, pg_cli_database
from tests.acceptance.test_cli_jobs import ROOT, activejob_cli

__all__ = ["backend", "pg_cli_database"]  # fixtures, used by name

READERS_AND_WRITERS = [
    ("jobs", "list"),
    ("jobs", "list", "--json"),
    ("jobs", "show", "0b6c2f9e"),
    ("jobs", "retry", "0b6c2f9e"),
    ("jobs", "discard", "--all", "--yes"),
    ("queues", "list"),
    ("queues", "pause", "mailers"),
    ("queues", "resume", "mailers"),
    ("workers",),
]


@pytest.mark.parametrize("command", READERS_AND_WRITERS, ids=" ".join)
def test_a_missing_sqlite_file_is_reported_not_created(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = activejob_cli(*command, "--adapter", "sqlite:///jobs.sqlite3", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"activejob {' '.join(command[:2])}: "
        f"error: no such database: {tmp_path / 'jobs.sqlite3'} (`activejob migrate` creates it)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_the_default_adapter_is_not_created_in_the_working_folder(tmp_path: Path) -> None:
    result = activejob_cli("jobs", "list", cwd=tmp_path)
    assert result.returncode == 1
    assert f"no such database: {tmp_path / 'activejob.sqlite3'}" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_migrate_still_creates_the_file_and_then_reads_work(tmp_path: Path) -> None:
    url = "sqlite:///jobs.sqlite3"
    assert activejob_cli("migrate", "--adapter", url, cwd=tmp_path).returncode == 0
    assert (tmp_path / "jobs.sqlite3").exists()
    listed = activejob_cli("jobs", "list", "--json", "--adapter", url, cwd=tmp_path)
    assert (listed.returncode, json.loads(listed.stdout)) == (0, [])


# -- --all with no filter -------------------------------------------------------------


def _fill(backend: Backend) -> dict[str, str]:
    """A ready, a scheduled and a failed job, and a succeeded one no action touches."""
    failed, succeeded = new_job("q"), new_job("q")
    backend.storage.push([failed])
    [claimed] = backend.storage.claim("w", ["*"], 1)
    error = ErrorInfo("builtins.ValueError", "bad", "")
    backend.storage.complete([Result(claimed.id, JobState.FAILED, error=error)])
    backend.storage.push([succeeded])
    [claimed] = backend.storage.claim("w", ["*"], 1)
    backend.storage.complete([Result(claimed.id, JobState.SUCCEEDED)])
    ready, scheduled = new_job("q"), new_job("other", run_at=4102444800.0)
    backend.storage.push([ready, scheduled])
    return {"ready": ready.job_id, "scheduled": scheduled.job_id, "failed": failed.job_id}


def _states(backend: Backend) -> dict[str, JobState]:
    return {j.job_id: j.state for j in backend.storage.list(JobFilter(limit=None))}


def test_all_with_no_filter_needs_yes_without_a_terminal(backend: Backend) -> None:
    ids = _fill(backend)
    before = _states(backend)
    refused = activejob_cli("jobs", "retry", "--all", "--adapter", backend.url)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "activejob jobs retry: --all with no filter would retry all 1 failed and discarded "
        "jobs; add --yes to confirm"
    ]
    discard = activejob_cli("jobs", "discard", "--all", "--adapter", backend.url)
    assert discard.returncode == 1
    assert "would discard all 3 ready, scheduled, blocked and failed jobs" in discard.stderr
    assert _states(backend) == before
    filtered = activejob_cli(
        "jobs", "discard", "--all", "--queue", "other", "--adapter", backend.url
    )
    assert (filtered.returncode, filtered.stdout.strip()) == (0, "discarded 1 job")
    confirmed = activejob_cli("jobs", "discard", "--all", "--yes", "--adapter", backend.url)
    assert confirmed.returncode == 0, confirmed.stderr
    assert _states(backend)[ids["ready"]] is JobState.DISCARDED


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, type ``answer``; (status, stderr)."""
    controller, terminal = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVEJOB_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "activejob", *args],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=environ,
        )
        # The line waits in the terminal's buffer until the command reads it.
        os.write(controller, answer.encode() + b"\n")
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    return proc.returncode, err


def test_all_with_no_filter_asks_on_a_terminal(backend: Backend) -> None:
    ids = _fill(backend)
    before = _states(backend)
    args = ["jobs", "discard", "--all", "--adapter", backend.url]
    status, err = _on_a_terminal(args, "n")
    assert (status, err) == (
        1,
        "discard all 3 ready, scheduled, blocked and failed jobs? [y/N] "
        "activejob jobs discard: nothing done\n",
    )
    assert _states(backend) == before
    status, err = _on_a_terminal(args, "y")
    assert status == 0, err
    after = _states(backend)
    assert after[ids["ready"]] is JobState.DISCARDED
    assert after[ids["scheduled"]] is JobState.DISCARDED


# -- queues pause ---------------------------------------------------------------------


def test_pausing_a_queue_never_seen_warns_but_pauses(backend: Backend) -> None:
    backend.storage.push([new_job("mailers")])
    unseen = activejob_cli("queues", "pause", "mailer", "--adapter", backend.url)
    assert (unseen.returncode, unseen.stdout.strip()) == (0, "paused queue mailer")
    assert unseen.stderr.splitlines() == [
        "activejob queues pause: warning: queue 'mailer' has no jobs yet; pausing it anyway"
    ]
    assert {q.name: q.paused for q in backend.storage.queues()} == {
        "mailer": True,
        "mailers": False,
    }
    for known in ("mailers", "mailer"):  # has jobs; already paused
        again = activejob_cli("queues", "pause", known, "--adapter", backend.url)
        assert (again.returncode, again.stderr) == (0, "")


# -- hints for a path where a name or URL belongs --------------------------------------


@pytest.mark.parametrize(
    ("flags", "hint"),
    [
        (["--import", "myjobs.py"], "--import takes a module name: did you mean --import myjobs?"),
        (["--import", "./app/jobs.py"], "did you mean --import app.jobs?"),
        (["--adapter", "jobs.sqlite3"], "did you mean sqlite:///jobs.sqlite3?"),
        (["--adapter", "data/jobs.db"], "did you mean sqlite:///data/jobs.db?"),
    ],
)
@pytest.mark.parametrize("command", [("jobs", "list"), ("queues", "list"), ("worker",)])
def test_a_file_path_for_import_or_adapter_gets_a_hint(
    tmp_path: Path, command: tuple[str, ...], flags: list[str], hint: str
) -> None:
    result = activejob_cli(*command, *flags, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"activejob {command[0]}") and line.endswith(hint)
    assert list(tmp_path.iterdir()) == []


def test_activejob_imports_with_a_file_gets_a_hint(tmp_path: Path) -> None:
    result = activejob_cli("jobs", "list", cwd=tmp_path, env={"ACTIVEJOB_IMPORTS": "a,b.py"})
    assert result.returncode == 2
    assert result.stderr.strip().endswith("ACTIVEJOB_IMPORTS takes module names: did you mean b?")

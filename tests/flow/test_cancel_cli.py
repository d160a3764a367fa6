"""``activejob jobs cancel`` and what ``activejob jobs show`` says of a pending
cancel, on each backend (no worker: the test claims the job itself)."""

from __future__ import annotations

import json

from activejob.storage.base import JobState
from activejob.testing.contract import new_job
from tests.acceptance.cli_backends import Backend, backend, mysql_cli_database, pg_cli_database
from tests.acceptance.test_cli_jobs import activejob_cli

__all__ = ["backend", "mysql_cli_database", "pg_cli_database"]  # fixtures, used by name


def test_show_says_a_cancel_is_pending_until_the_worker_ends_the_job(backend: Backend) -> None:
    job = new_job()
    backend.storage.push([job])
    [claimed] = backend.storage.claim("w1", ["*"], 1)
    said = activejob_cli("jobs", "cancel", job.job_id[:8], "--adapter", backend.url)
    assert said.returncode == 0, said.stderr
    assert said.stdout.startswith(f"cancel requested for {job.job_id} (running)")
    shown = activejob_cli("jobs", "show", job.job_id, "--adapter", backend.url)
    assert "cancel:       pending: asked to stop" in shown.stdout
    as_json = activejob_cli("jobs", "show", job.job_id, "--json", "--adapter", backend.url)
    assert json.loads(as_json.stdout)["cancel_requested"] is True
    assert backend.storage.cancel_requests("w1") == [claimed.id]


def test_cancel_of_a_ready_job_and_the_exit_codes(backend: Backend) -> None:
    ready = new_job()
    backend.storage.push([ready])
    said = activejob_cli("jobs", "cancel", ready.job_id, "--adapter", backend.url)
    assert (said.returncode, said.stdout) == (
        0,
        f"cancelled {ready.job_id}: discarded (it was ready)\n",
    )
    info = backend.storage.get(ready.job_id)
    assert info is not None and info.state is JobState.DISCARDED
    again = activejob_cli("jobs", "cancel", ready.job_id, "--json", "--adapter", backend.url)
    assert again.returncode == 1
    assert json.loads(again.stdout) == {
        "job_id": ready.job_id,
        "outcome": "finished",
        "state": "discarded",
    }
    unknown = activejob_cli("jobs", "cancel", "nosuchjob", "--adapter", backend.url)
    assert unknown.returncode == 2
    assert unknown.stderr == "activejob jobs cancel: no job with id nosuchjob\n"

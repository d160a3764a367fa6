"""``activejob jobs run-now``, the twin of the dashboard's "Run now", as an operator
runs it: the real command in a subprocess against a real SQLite file."""

from __future__ import annotations

import json

from activejob.storage.base import JobState
from activejob.storage.sql.sqlite import SQLiteStorage
from tests.acceptance.test_cli_jobs import activejob_cli, jobs_file

__all__ = ["jobs_file"]


def test_run_now_makes_a_scheduled_job_ready(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, storage, ids = jobs_file
    result = activejob_cli("jobs", "run-now", ids["scheduled"][:8], "--adapter", url)
    assert (result.returncode, result.stdout.strip()) == (0, "made ready 1 job"), result.stderr
    info = storage.get(ids["scheduled"])
    assert info is not None and info.state is JobState.READY


def test_run_now_json_names_what_it_skipped(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, storage, ids = jobs_file
    result = activejob_cli(
        "jobs", "run-now", ids["scheduled"], ids["ready"], "ffffffffff", "--adapter", url, "--json"
    )
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "ran": 1,
        "job_ids": [ids["scheduled"]],
        "skipped": [ids["ready"]],
        "unmatched": ["ffffffffff"],
    }
    assert f"{ids['ready']} not run now (it is ready, not scheduled)" in result.stderr
    info = storage.get(ids["ready"])
    assert info is not None and info.state is JobState.READY

"""How ``activejob jobs`` names jobs and times: a unique prefix stands for a job id
(as git takes short hashes), ids that match nothing are named, and every time says
its zone."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from activejob.storage.base import ErrorInfo, JobState, Result
from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from tests.acceptance.cli_backends import Backend, backend, pg_cli_database
from tests.acceptance.test_cli_jobs import activejob_cli, jobs_file

__all__ = ["backend", "jobs_file", "pg_cli_database"]  # fixtures, used by name

ONE, TWO, OTHER = "aaaa1111-0001", "aaaa2222-0002", "bbbb3333-0003"


def _jobs(backend: Backend) -> None:
    """ONE fails, TWO runs, OTHER is ready."""
    backend.storage.push([new_job("q", job_id=ONE)])
    [claimed] = backend.storage.claim("w", ["*"], 1)
    error = ErrorInfo("builtins.ValueError", "bad", "")
    backend.storage.complete([Result(claimed.id, JobState.FAILED, error=error)])
    backend.storage.push([new_job("q", job_id=TWO)])
    backend.storage.claim("w", ["*"], 1)
    backend.storage.push([new_job("q", job_id=OTHER)])


def _state(backend: Backend, job_id: str) -> JobState:
    info = backend.storage.get(job_id)
    assert info is not None
    return info.state


def test_show_takes_a_unique_prefix_and_refuses_an_ambiguous_one(backend: Backend) -> None:
    _jobs(backend)
    shown = activejob_cli("jobs", "show", "bbbb", "--adapter", backend.url, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["job_id"] == OTHER
    text = activejob_cli("jobs", "show", "aaaa1", "--adapter", backend.url)
    assert f"job_id:       {ONE}" in text.stdout
    ambiguous = activejob_cli("jobs", "show", "aaaa", "--adapter", backend.url)
    assert (ambiguous.returncode, ambiguous.stdout) == (1, "")
    assert ambiguous.stderr.splitlines() == [
        f"activejob jobs show: job id prefix aaaa is ambiguous, it matches {TWO}, {ONE}; "
        "give more of the id"
    ]
    short = activejob_cli("jobs", "show", "bbb", "--adapter", backend.url)
    assert short.returncode == 1
    assert "no job with id bbb (a prefix needs at least 4 characters)" in short.stderr
    missing = activejob_cli("jobs", "show", "cccc", "--adapter", backend.url)
    assert missing.returncode == 1 and "no job with id cccc\n" in missing.stderr


def test_retry_and_discard_take_prefixes_and_name_what_they_did_not_change(
    backend: Backend,
) -> None:
    _jobs(backend)
    ambiguous = activejob_cli("jobs", "discard", "bbbb", "aaaa", "--adapter", backend.url)
    assert ambiguous.returncode == 1 and "prefix aaaa is ambiguous" in ambiguous.stderr
    assert _state(backend, OTHER) is JobState.READY  # nothing done when one is ambiguous

    result = activejob_cli("jobs", "discard", "bbbb", "cccc", "aaaa2", "--adapter", backend.url)
    assert (result.returncode, result.stdout.strip()) == (1, "discarded 1 job")
    assert result.stderr.splitlines() == [
        f"activejob jobs discard: {TWO} not discarded (it is running)",
        "activejob jobs discard: no job matches cccc",
    ]
    assert _state(backend, OTHER) is JobState.DISCARDED
    assert _state(backend, TWO) is JobState.RUNNING

    retried = activejob_cli(
        "jobs", "retry", "aaaa1", ONE, "bbbb3", "--adapter", backend.url, "--json"
    )
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == {
        "retried": 2,
        "job_ids": [ONE, OTHER],
        "skipped": [],
        "unmatched": [],
    }
    assert _state(backend, ONE) is JobState.READY and _state(backend, OTHER) is JobState.READY


def test_times_say_they_are_utc_whatever_the_local_zone(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]], tmp_path: Path
) -> None:
    url, storage, ids = jobs_file
    failed = storage.get(ids["failed"])
    assert failed is not None and failed.finished_at is not None
    expected = failed.finished_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    tokyo = {"TZ": "Asia/Tokyo"}
    listed = activejob_cli("jobs", "list", "--state", "failed", "--adapter", url, env=tokyo)
    row = next(line for line in listed.stdout.splitlines() if line.startswith(ids["failed"]))
    assert f"  {expected}  TimeoutError" in row
    shown = activejob_cli("jobs", "show", ids["failed"], "--adapter", url, env=tokyo)
    assert f"finished_at:  {expected}\n" in shown.stdout
    assert "created_at:   " in shown.stdout and shown.stdout.count(" UTC\n") >= 4
    as_json = activejob_cli("jobs", "show", ids["failed"], "--adapter", url, "--json", env=tokyo)
    moment = datetime.fromisoformat(json.loads(as_json.stdout)["finished_at"])
    assert moment.utcoffset() is not None and moment == failed.finished_at

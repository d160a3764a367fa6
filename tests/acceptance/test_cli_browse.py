"""``activejob jobs list`` with the dashboard's filters and cursor (``--error``,
``--text``, ``--since``/``--until``, ``--before``): the real command in a subprocess
against a real SQLite file."""

from __future__ import annotations

import json

from activejob.storage.sql.sqlite import SQLiteStorage
from tests.acceptance.test_cli_jobs import activejob_cli, jobs_file

__all__ = ["jobs_file"]


def test_list_filters_by_error_class_text_and_time(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, _, ids = jobs_file

    def listed(*options: str) -> set[str]:
        result = activejob_cli("jobs", "list", *options, "--adapter", url, "--json")
        assert result.returncode == 0, result.stderr
        return {job["job_id"] for job in json.loads(result.stdout)["jobs"]}

    assert listed("--error", "builtins.TimeoutError") == {ids["failed"], ids["other_failed"]}
    assert listed("--text", ids["mailer"]) == {ids["mailer"]}  # the payload names its id
    assert listed("--state", "ready", "--since", "1h") == {ids["ready"], ids["mailer"]}
    assert listed("--until", "2000-01-01") == set()


def test_list_pages_by_cursor(jobs_file: tuple[str, SQLiteStorage, dict[str, str]]) -> None:
    url, _, ids = jobs_file
    seen: list[str] = []
    before = "999999999"
    while before:
        result = activejob_cli(
            "jobs", "list", "--state", "failed", "--limit", "1", "--before", before,
            "--adapter", url, "--json",
        )  # fmt: skip
        page = json.loads(result.stdout)
        seen += [job["job_id"] for job in page["jobs"]]
        before = "" if page["next_before"] is None else str(page["next_before"])
    assert seen == [ids["other_failed"], ids["failed"]]  # newest first


def test_a_bad_time_is_a_usage_error(jobs_file: tuple[str, SQLiteStorage, dict[str, str]]) -> None:
    url, _, _ = jobs_file
    result = activejob_cli("jobs", "list", "--since", "soonish", "--adapter", url)
    assert result.returncode == 2
    assert "bad time 'soonish'" in result.stderr

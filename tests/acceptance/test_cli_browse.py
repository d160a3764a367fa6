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


def test_retry_and_discard_all_matching_the_listing_filters(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, storage, ids = jobs_file

    def state(name: str) -> str:
        return storage.get(ids[name]).state.value  # type: ignore[union-attr]

    # The text filter: only the failed job whose payload names its own id.
    result = activejob_cli(
        "jobs", "retry", "--all", "--state", "failed", "--text", ids["failed"],
        "--adapter", url, "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["retried"] == 1
    assert answer["matching"] == [f"every failed job whose arguments contain {ids['failed']!r}"]
    assert (state("failed"), state("other_failed")) == ("ready", "failed")

    # An error class nothing has changes nothing; the right one, only its jobs.
    nothing = activejob_cli("jobs", "discard", "--all", "--error", "app.Nope", "--adapter", url)
    assert nothing.returncode == 0 and "discarded 0 jobs" in nothing.stdout
    some = activejob_cli(
        "jobs", "discard", "--all", "--error", "builtins.TimeoutError", "--since", "1h",
        "--adapter", url,
    )  # fmt: skip
    assert some.returncode == 0, some.stderr
    # The retried job is ready now, and its last error is still that one: it matches too.
    assert "discarded 2 jobs" in some.stdout
    assert "whose last error is 'builtins.TimeoutError' created since" in some.stderr
    assert (state("failed"), state("other_failed")) == ("discarded", "discarded")
    assert (state("ready"), state("mailer"), state("scheduled")) == ("ready", "ready", "scheduled")

    # A time range in the past matches nothing; a search filter needs --all.
    past = activejob_cli("jobs", "discard", "--all", "--until", "2000-01-01", "--adapter", url)
    assert "discarded 0 jobs" in past.stdout and state("ready") == "ready"
    named = activejob_cli("jobs", "retry", ids["failed"], "--error", "x", "--adapter", url)
    assert named.returncode == 2 and "go with --all" in named.stderr

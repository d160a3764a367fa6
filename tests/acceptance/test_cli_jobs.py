"""``activejob jobs|queues|migrate`` as an operator runs them: the real command in a
subprocess, against a real SQLite file (and PostgreSQL where it matters)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from activejob.storage.base import ErrorInfo, JobState, Result
from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from tests.services import service_url

ROOT = Path(__file__).resolve().parents[2]


def activejob_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m activejob ARGS`` (no terminal: stdin is empty) and return what
    it did."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVEJOB_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(cwd or ROOT)])
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "activejob", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or ROOT,
        env=environ,
        check=False,
    )


@pytest.fixture
def jobs_file(tmp_path: Path) -> Iterator[tuple[str, SQLiteStorage, dict[str, str]]]:
    """A SQLite file with a job in each interesting state; yields its URL, storage and ids."""
    storage = SQLiteStorage(tmp_path / "jobs.sqlite3")
    ready, failed, other_failed, mailer, scheduled = (
        new_job("default", job_class="app.Ready"),
        new_job("default", job_class="app.Sync"),
        new_job("other", job_class="app.Sync"),
        new_job("mailers", job_class="app.Mail"),
        new_job("default", job_class="app.Later", run_at=4102444800.0),
    )
    storage.push([failed, other_failed])
    error = ErrorInfo("builtins.TimeoutError", "upstream timed out", "Traceback: line 7 in sync")
    storage.complete(
        [Result(c.id, JobState.FAILED, error=error) for c in storage.claim("w", ["*"], 10)]
    )
    storage.push([ready, mailer, scheduled])
    ids = {
        "ready": ready.job_id,
        "failed": failed.job_id,
        "other_failed": other_failed.job_id,
        "mailer": mailer.job_id,
        "scheduled": scheduled.job_id,
    }
    yield f"sqlite:///{tmp_path / 'jobs.sqlite3'}", storage, ids
    storage.close()


def test_jobs_list_prints_a_table_and_filters(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, _, ids = jobs_file
    everything = activejob_cli("jobs", "list", "--adapter", url)
    assert everything.returncode == 0, everything.stderr
    lines = everything.stdout.splitlines()
    assert lines[0].split() == [
        "JOB",
        "ID",
        "CLASS",
        "QUEUE",
        "STATE",
        "PRIORITY",
        "ATTEMPTS",
        "AT",
        "ERROR",
    ]
    assert len(lines) == 6
    failed = activejob_cli(
        "jobs", "list", "--adapter", url, "--state", "failed", "--queue", "default"
    )
    assert [line.split()[0] for line in failed.stdout.splitlines()[1:]] == [ids["failed"]]
    assert "TimeoutError: upstream timed out" in failed.stdout


def test_jobs_list_json(jobs_file: tuple[str, SQLiteStorage, dict[str, str]]) -> None:
    url, _, ids = jobs_file
    result = activejob_cli("jobs", "list", "--adapter", url, "--class", "app.Sync", "--json")
    rows = json.loads(result.stdout)
    assert {row["job_id"] for row in rows} == {ids["failed"], ids["other_failed"]}
    assert all(row["state"] == "failed" for row in rows)
    assert rows[0]["error"]["exception_class"] == "builtins.TimeoutError"


def test_jobs_show_prints_the_last_error(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, _, ids = jobs_file
    result = activejob_cli("jobs", "show", ids["failed"], "--adapter", url)
    assert result.returncode == 0, result.stderr
    assert "state:        failed" in result.stdout
    assert "builtins.TimeoutError: upstream timed out" in result.stdout
    assert "Traceback: line 7 in sync" in result.stdout
    shown = json.loads(
        activejob_cli("jobs", "show", ids["ready"], "--adapter", url, "--json").stdout
    )
    assert shown["state"] == "ready" and shown["attempts"] == 0
    missing = activejob_cli("jobs", "show", "no-such-job", "--adapter", url)
    assert missing.returncode == 1 and "no job with id no-such-job" in missing.stderr


def test_jobs_retry_by_filter_and_by_id(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, storage, ids = jobs_file
    result = activejob_cli(
        "jobs", "retry", "--all", "--state", "failed", "--queue", "other", "--adapter", url
    )
    assert (result.returncode, result.stdout.strip()) == (0, "retried 1 job")
    assert storage.get(ids["other_failed"]).state is JobState.READY  # type: ignore[union-attr]
    assert storage.get(ids["failed"]).state is JobState.FAILED  # type: ignore[union-attr]
    by_id = activejob_cli("jobs", "retry", ids["failed"], "--adapter", url, "--json")
    assert json.loads(by_id.stdout) == {
        "retried": 1,
        "job_ids": [ids["failed"]],
        "skipped": [],
        "unmatched": [],
    }
    assert storage.get(ids["failed"]).state is JobState.READY  # type: ignore[union-attr]
    not_failed = activejob_cli("jobs", "retry", ids["ready"], "--adapter", url)
    assert not_failed.returncode == 1 and "retried 0 jobs" in not_failed.stdout


def test_jobs_discard(jobs_file: tuple[str, SQLiteStorage, dict[str, str]]) -> None:
    url, storage, ids = jobs_file
    result = activejob_cli("jobs", "discard", ids["mailer"], ids["scheduled"], "--adapter", url)
    assert (result.returncode, result.stdout.strip()) == (0, "discarded 2 jobs")
    assert storage.get(ids["mailer"]).state is JobState.DISCARDED  # type: ignore[union-attr]
    assert storage.get(ids["ready"]).state is JobState.READY  # type: ignore[union-attr]


def test_jobs_discard_all_acts_only_on_what_the_filters_match(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, storage, ids = jobs_file

    def discard_all(*filters: str) -> str:
        result = activejob_cli("jobs", "discard", "--all", *filters, "--adapter", url)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def states() -> dict[str, JobState]:
        return {name: storage.get(job_id).state for name, job_id in ids.items()}  # type: ignore[union-attr]

    before = states()
    # --state picks the scheduled job only; the ready jobs of the same queue stay.
    assert discard_all("--state", "scheduled", "--queue", "default") == "discarded 1 job"
    assert states() == {**before, "scheduled": JobState.DISCARDED}
    # --class picks one class; the failed jobs of another class stay.
    assert discard_all("--class", "app.Mail") == "discarded 1 job"
    assert states() == {**before, "scheduled": JobState.DISCARDED, "mailer": JobState.DISCARDED}
    # --queue default --state ready takes the last ready job; failed ones stay failed.
    assert discard_all("--queue", "default", "--state", "ready") == "discarded 1 job"
    assert states()["failed"] is JobState.FAILED
    # --queue on a queue holding only a failed job discards that failed job.
    assert discard_all("--queue", "other") == "discarded 1 job"
    assert states() == {
        "ready": JobState.DISCARDED,
        "failed": JobState.FAILED,
        "other_failed": JobState.DISCARDED,
        "mailer": JobState.DISCARDED,
        "scheduled": JobState.DISCARDED,
    }


def test_jobs_discard_a_failed_job_by_id(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, storage, ids = jobs_file
    result = activejob_cli("jobs", "discard", ids["failed"], "--adapter", url)
    assert (result.returncode, result.stdout.strip()) == (0, "discarded 1 job"), result.stderr
    info = storage.get(ids["failed"])
    assert info is not None and info.state is JobState.DISCARDED
    assert info.error is not None and info.error.message == "upstream timed out"


def test_a_poison_row_is_listed_shown_and_discarded_by_the_cli(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, storage, ids = jobs_file
    with sqlite3.connect(storage.path) as conn:
        conn.execute(
            "UPDATE activejob_jobs SET payload = ? WHERE job_id = ?", ("[" * 100_000, ids["ready"])
        )
    listed = activejob_cli("jobs", "list", "--adapter", url)
    assert listed.returncode == 0 and ids["ready"] in listed.stdout, listed.stderr
    as_json = activejob_cli("jobs", "list", "--adapter", url, "--json")
    [row] = [j for j in json.loads(as_json.stdout) if j["job_id"] == ids["ready"]]
    assert "nested too deeply" in row["payload"]["reason"]
    shown = activejob_cli("jobs", "show", ids["ready"], "--adapter", url)
    assert shown.returncode == 0, shown.stderr
    assert "payload:      unreadable: the stored payload is nested too deeply" in shown.stdout
    assert len(shown.stdout) < 2000
    discarded = activejob_cli("jobs", "discard", ids["ready"], "--adapter", url)
    assert (discarded.returncode, discarded.stdout.strip()) == (0, "discarded 1 job")
    assert "Traceback" not in listed.stderr + shown.stderr + discarded.stderr


def test_retry_and_discard_need_ids_or_all(
    jobs_file: tuple[str, SQLiteStorage, dict[str, str]],
) -> None:
    url, storage, ids = jobs_file
    for args in (("jobs", "retry"), ("jobs", "discard", ids["ready"], "--all")):
        result = activejob_cli(*args, "--adapter", url)
        assert result.returncode == 2 and "--all" in result.stderr
    assert storage.get(ids["ready"]).state is JobState.READY  # type: ignore[union-attr]


def test_queues_list_pause_and_resume(jobs_file: tuple[str, SQLiteStorage, dict[str, str]]) -> None:
    url, storage, _ = jobs_file
    paused = activejob_cli("queues", "pause", "mailers", "--adapter", url)
    assert (paused.returncode, paused.stdout.strip()) == (0, "paused queue mailers")
    assert storage.claim("w", ["mailers"], 5) == []
    table = activejob_cli("queues", "list", "--adapter", url).stdout.splitlines()
    assert table[0].split()[:4] == ["QUEUE", "PAUSED", "SCHEDULED", "READY"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    assert rows["mailers"][:3] == ["yes", "0", "1"]
    assert rows["default"][:3] == ["no", "1", "1"] and rows["default"][5] == "1"
    as_json = json.loads(activejob_cli("queues", "list", "--adapter", url, "--json").stdout)
    assert {q["name"]: q["paused"] for q in as_json} == {
        "default": False,
        "mailers": True,
        "other": False,
    }
    resumed = activejob_cli("queues", "resume", "mailers", "--adapter", url)
    assert resumed.returncode == 0
    assert [c.queue_name for c in storage.claim("w", ["mailers"], 5)] == ["mailers"]


def test_migrate_creates_the_schema_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    first = activejob_cli("migrate", "--adapter", url)
    assert first.returncode == 0
    assert first.stdout.splitlines()[:3] == [
        "applied 0001_initial",
        "applied 0002_typed_columns",
        "applied 0003_recurring",
    ]
    again = activejob_cli("migrate", "--adapter", url, "--json")
    assert json.loads(again.stdout) == {"applied": []}


def test_the_adapter_comes_from_the_environment_or_an_imported_module(
    tmp_path: Path, jobs_file: tuple[str, SQLiteStorage, dict[str, str]]
) -> None:
    url, _, ids = jobs_file
    from_env = activejob_cli("jobs", "list", "--json", env={"ACTIVEJOB_ADAPTER": url})
    assert len(json.loads(from_env.stdout)) == 5
    (tmp_path / "myapp_settings.py").write_text(
        textwrap.dedent(f"""
            import activejob
            activejob.configure(adapter={url!r})
        """)
    )
    imported = activejob_cli(
        "jobs", "show", ids["ready"], "--import", "myapp_settings", cwd=tmp_path
    )
    assert imported.returncode == 0, imported.stderr
    via_env = activejob_cli(
        "queues", "list", "--json", cwd=tmp_path, env={"ACTIVEJOB_IMPORTS": "myapp_settings"}
    )
    assert via_env.returncode == 0 and len(json.loads(via_env.stdout)) == 3
    broken = activejob_cli("jobs", "list", "--import", "no_such_module_here", cwd=tmp_path)
    assert broken.returncode == 2 and "no_such_module_here" in broken.stderr


def test_an_adapter_without_storage_is_refused_clearly() -> None:
    result = activejob_cli("jobs", "list", "--adapter", "async:")
    assert result.returncode == 2
    assert "keeps no jobs" in result.stderr


def test_a_database_that_is_down_is_reported_not_a_traceback() -> None:
    result = activejob_cli("queues", "list", "--adapter", "postgresql://postgres@127.0.0.1:1/x")
    assert result.returncode == 1
    assert "is the database server running?" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgresql
def test_postgresql_operations_through_the_cli(tmp_path: Path) -> None:
    import psycopg

    server = service_url("postgresql")
    name = f"activejob_cli_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        before = activejob_cli("jobs", "list", "--adapter", url)
        assert before.returncode == 1 and "activejob migrate" in before.stderr
        migrated = activejob_cli("migrate", "--adapter", url)
        assert migrated.stdout.split("\n")[:2] == [
            "applied 0001_initial",
            "applied 0002_recurring",
        ], migrated.stderr
        from activejob.storage.sql.postgresql import PostgreSQLStorage

        storage = PostgreSQLStorage.from_url(url)
        job = new_job("pg")
        storage.push([job])
        assert activejob_cli("queues", "pause", "pg", "--adapter", url).returncode == 0
        assert storage.claim("w", ["*"], 5) == []
        listed = json.loads(activejob_cli("jobs", "list", "--adapter", url, "--json").stdout)
        assert [row["job_id"] for row in listed] == [job.job_id]
        storage.close()
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

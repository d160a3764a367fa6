"""SQLite beyond the contract: file settings, URLs, several processes on one file,
waking on another process's commit, enqueueing in the caller's transaction, and
schema migration on first use."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import activejob
from activejob import ConfigurationError, EnqueueError, Job
from activejob.storage.base import JobState, NewJob, SchemaError
from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from activejob.transaction import in_transaction

SRC = str(Path(activejob.__file__).resolve().parents[1])


class SQLiteEcho(Job):
    queue_as = "sqlite-tests"

    def perform(self, value: int) -> int:
        return value


@pytest.fixture
def storage(sqlite_path: Path):  # type: ignore[no-untyped-def]
    storage = SQLiteStorage(sqlite_path)
    yield storage
    storage.close()


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PYTHONPATH": SRC},
        check=False,
    )


def test_the_file_is_in_wal_mode_with_a_busy_timeout(sqlite_path: Path) -> None:
    storage = SQLiteStorage.from_url(f"sqlite:///{sqlite_path}?busy_timeout=7.5&synchronous=full")
    storage.push([new_job()])
    with storage._acquire() as conn:
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 7500
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    storage.close()
    with sqlite3.connect(sqlite_path) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_settings(storage: SQLiteStorage) -> None:
    storage.push([new_job()])
    with storage._acquire() as conn:
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert storage.keep_finished == 7 * 86400


def test_url_paths_and_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = SQLiteStorage.from_url("sqlite:///jobs.db?keep_finished=3d&poll_interval=10ms")
    assert relative.path == str(tmp_path / "jobs.db")
    assert relative.keep_finished == 3 * 86400 and relative.poll_interval == pytest.approx(0.01)
    absolute = SQLiteStorage.from_url(f"sqlite:///{tmp_path}/abs.db")
    assert absolute.path == str(tmp_path / "abs.db")
    for bad in (
        "sqlite:///jobs.db?colour=blue",
        "sqlite:///jobs.db?busy_timeout=soon",
        "sqlite:///:memory:",
        "sqlite://host/jobs.db",
        "sqlite:///jobs.db?synchronous=sometimes",
    ):
        with pytest.raises(ConfigurationError):
            SQLiteStorage.from_url(bad)


def test_the_schema_is_migrated_on_first_use(sqlite_path: Path) -> None:
    storage = SQLiteStorage(sqlite_path)
    latest = storage.sql.latest_version
    assert storage.schema_version() == (0, latest)
    storage.push([new_job()])
    assert storage.schema_version() == (latest, latest)
    assert storage.apply_migrations() == []
    storage.close()


def test_without_auto_migrate_an_empty_file_says_to_migrate(sqlite_path: Path) -> None:
    storage = SQLiteStorage(sqlite_path, auto_migrate=False)
    with pytest.raises(SchemaError, match="activejob migrate"):
        storage.push([new_job()])
    assert storage.apply_migrations() == [m.name for m in storage.sql.migrations]
    storage.push([new_job()])
    storage.close()


def test_migration_0003_adds_recurring_tasks_to_a_file_with_jobs(sqlite_path: Path) -> None:
    old = SQLiteStorage(sqlite_path)
    conn = sqlite3.connect(sqlite_path, isolation_level=None)
    conn.execute(old.sql.queries["create_migrations_table"])
    for migration in old.sql.migrations[:2]:
        old._apply_script(conn, migration.script)
        conn.execute(
            "INSERT INTO activejob_migrations VALUES (?, ?, 0)", (migration.version, migration.name)
        )
    old.close()
    job = new_job()
    conn.execute(
        "INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, "
        "run_at, created_at) VALUES (?, ?, ?, 0, 'ready', ?, 1.0, 1.0)",
        (job.job_id, job.job_class, job.queue_name, job.payload),
    )
    conn.close()
    storage = SQLiteStorage(sqlite_path, auto_migrate=False)
    assert storage.schema_version() == (2, storage.sql.latest_version)
    assert storage.apply_migrations() == [m.name for m in storage.sql.migrations[2:]]
    assert storage.get(job.job_id) is not None
    assert storage.enqueue_recurring("nightly", 1_767_236_400, new_job()) is not None
    assert storage.enqueue_recurring("nightly", 1_767_236_400, new_job()) is None
    storage.close()


def _version_1_file(path: Path) -> sqlite3.Connection:
    """A file as activejob left it before migration 0002 (schema version 1)."""
    old = SQLiteStorage(path, auto_migrate=False)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(old.sql.queries["create_migrations_table"])
    old._apply_script(conn, old.sql.migrations[0].script)
    conn.execute("INSERT INTO activejob_migrations VALUES (1, '0001_initial', 0)")
    old.close()
    return conn


def test_migration_0002_keeps_rows_and_ids_and_fails_rows_of_the_wrong_type(
    sqlite_path: Path,
) -> None:
    conn = _version_1_file(sqlite_path)
    jobs = {name: new_job(priority=3) for name in ("good", "priority", "times", "done", "pruned")}
    for job in jobs.values():
        conn.execute(
            "INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, "
            "payload, run_at, created_at) VALUES (?, ?, ?, ?, 'ready', ?, 1.0, 1.0)",
            (job.job_id, job.job_class, job.queue_name, job.priority, job.payload),
        )
    ids = {n: j.job_id for n, j in jobs.items()}
    update = "UPDATE activejob_jobs SET {} WHERE job_id = ?"
    conn.execute(update.format("priority = 'high'"), (ids["priority"],))
    conn.execute(update.format("run_at = 'soon', attempts = 'x'"), (ids["times"],))
    conn.execute(
        update.format("priority = 1.5, state = 'succeeded', finished_at = 5"), (ids["done"],)
    )
    conn.execute("DELETE FROM activejob_jobs WHERE job_id = ?", (ids["pruned"],))

    storage = SQLiteStorage(sqlite_path)  # migrates on first use
    good = storage.get(ids["good"])
    assert good is not None and (good.id, good.state, good.priority) == (1, JobState.READY, 3)
    assert good.error is None
    for name, why in (
        ("priority", "priority 'high' is not an integer"),
        ("times", "run_at 'soon' is not a time; attempts 'x' is not an integer"),
    ):
        info = storage.get(ids[name])
        assert info is not None and info.state is JobState.FAILED and info.finished_at
        assert info.error is not None
        assert info.error.exception_class == "activejob.errors.DeserializationError"
        assert info.error.message.endswith(why)
    done = storage.get(ids["done"])
    assert done is not None and done.state is JobState.SUCCEEDED and done.error is None
    latest = storage.sql.latest_version
    assert storage.schema_version() == (latest, latest)
    # The rebuilt table goes on from the old sequence: a pruned job's id is not reused.
    fresh = new_job()
    assert storage.push([fresh]) == [6]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute(update.format("priority = 'high'"), (ids["good"],))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute(update.format("run_at = 'soon'"), (ids["good"],))
    assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [fresh.job_id, ids["good"]]
    conn.close()
    storage.close()


def test_a_worker_info_that_is_not_json_is_listed_raw(sqlite_path: Path) -> None:
    storage = SQLiteStorage(sqlite_path)
    storage.heartbeat("w", {"pid": 1})
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("UPDATE activejob_workers SET info = ?", ("[" * 100_000,))
    [worker] = storage.workers()
    assert worker["id"] == "w" and worker["raw"].startswith("[[[")
    assert len(worker["raw"]) < 300
    storage.close()


def test_a_newer_schema_is_refused(sqlite_path: Path, storage: SQLiteStorage) -> None:
    storage.migrate()
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("INSERT INTO activejob_migrations VALUES (99, '0099_future', 0)")
    newer = SQLiteStorage(sqlite_path)
    with pytest.raises(SchemaError, match="upgrade activejob"):
        newer.get("x")
    newer.close()


CLAIMER = """
import sys
from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.storage.base import Result, JobState
storage = SQLiteStorage(sys.argv[1], busy_timeout=30)
ids = []
while batch := storage.claim(sys.argv[2], ["*"], 5):
    ids += [job.job_id for job in batch]
    storage.complete([Result(job.id, JobState.SUCCEEDED) for job in batch])
print("\\n".join(ids))
"""


def test_several_processes_claim_from_one_file_without_duplicates(
    storage: SQLiteStorage, sqlite_path: Path
) -> None:
    jobs = [new_job() for _ in range(300)]
    storage.push(jobs)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(sqlite_path), f"proc-{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PYTHONPATH": SRC},
        )
        for i in range(3)
    ]
    claimed: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        claimed += out.split()
    assert sorted(claimed) == sorted(job.job_id for job in jobs)
    queue = {q.name: q for q in storage.queues()}["default"]
    assert queue.counts == {JobState.SUCCEEDED: 300}


def test_wait_sees_a_commit_from_another_process(storage: SQLiteStorage, sqlite_path: Path) -> None:
    storage.migrate()
    woke = threading.Event()

    def waiter() -> None:
        if storage.wait(["elsewhere"], timeout=30):
            woke.set()

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    result = run_python(
        """
        import sys
        from activejob.storage.sql.sqlite import SQLiteStorage
        from activejob.testing.contract import new_job
        SQLiteStorage(sys.argv[1]).push([new_job("elsewhere")])
        """,
        str(sqlite_path),
    )
    assert result.returncode == 0, result.stderr
    assert woke.wait(5), "wait() missed another process's commit"
    thread.join(5)
    assert [c.queue_name for c in storage.claim("w", ["elsewhere"], 5)] == ["elsewhere"]


def test_enqueue_in_the_callers_transaction_commit_and_rollback(sqlite_path: Path) -> None:
    activejob.configure(adapter=f"sqlite:///{sqlite_path}")
    observer = SQLiteStorage(sqlite_path)
    observer.migrate()
    conn = sqlite3.connect(sqlite_path)
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    conn.commit()

    conn.execute("INSERT INTO orders VALUES (1)")
    with in_transaction(conn):
        kept = SQLiteEcho.perform_later(1)
    assert kept.successfully_enqueued and kept.provider_job_id
    assert conn.in_transaction
    assert observer.get(kept.job_id) is None  # not committed yet
    conn.commit()
    info = observer.get(kept.job_id)
    assert info is not None and info.state is JobState.READY

    conn.execute("INSERT INTO orders VALUES (2)")
    with in_transaction(conn):
        dropped = SQLiteEcho.perform_later(2)
    conn.rollback()
    assert observer.get(dropped.job_id) is None
    assert conn.execute("SELECT id FROM orders").fetchall() == [(1,)]
    outside = SQLiteEcho.perform_later(3)  # after the block: the adapter's own connection
    assert observer.get(outside.job_id) is not None
    conn.close()
    observer.close()


def test_in_transaction_refuses_a_connection_to_another_database(
    tmp_path: Path, sqlite_path: Path
) -> None:
    activejob.configure(adapter=f"sqlite:///{sqlite_path}")
    other = sqlite3.connect(tmp_path / "other.db")
    with in_transaction(other), pytest.raises(ConfigurationError, match="jobs live in"):
        SQLiteEcho.perform_later(1)
    with in_transaction(object()), pytest.raises(EnqueueError, match=r"sqlite3\.Connection"):
        SQLiteEcho.perform_later(1)
    other.close()


def test_adapter_enqueues_schedules_and_bulk_enqueues(sqlite_path: Path) -> None:
    activejob.configure(adapter=f"sqlite:///{sqlite_path}")
    job = SQLiteEcho.perform_later(1)
    later = SQLiteEcho.set(wait=3600).perform_later(2)
    many = [SQLiteEcho(i) for i in range(5)]
    assert activejob.perform_all_later(many) == 5
    storage = SQLiteStorage(sqlite_path)
    for enqueued in (job, later, *many):
        info = storage.get(enqueued.job_id)
        assert enqueued.successfully_enqueued
        assert info is not None and str(info.id) == enqueued.provider_job_id
        assert (
            info.payload["arguments"] == json.loads(json.dumps(enqueued.serialize()))["arguments"]
        )
        assert info.job_class == SQLiteEcho.job_class_name and info.queue_name == "sqlite-tests"
    assert storage.get(later.job_id).state is JobState.SCHEDULED  # type: ignore[union-attr]
    assert [int(j.provider_job_id or 0) for j in many] == sorted(
        int(j.provider_job_id or 0) for j in many
    )
    storage.close()


def test_an_unusable_file_gives_enqueue_error(tmp_path: Path) -> None:
    activejob.configure(adapter=f"sqlite:///{tmp_path}/missing-dir/jobs.db")
    with pytest.raises(EnqueueError) as raised:
        SQLiteEcho.perform_later(1)
    assert isinstance(raised.value.__cause__, Exception)


def test_claims_use_the_partial_indexes(storage: SQLiteStorage) -> None:
    storage.migrate()
    with storage._acquire() as conn:
        for name, params in (
            ("claim_any", {"queue": ""}),
            ("claim_exact", {"queue": "default"}),
        ):
            plan = conn.execute(
                "EXPLAIN QUERY PLAN " + storage.sql.queries[name],
                {"worker_id": "w", "now": time.time(), "limit": 5, **params},
            ).fetchall()
            text = " ".join(str(row[-1]) for row in plan)
            assert "activejob_jobs_claim" in text, text
            assert not re.search(r"SCAN activejob_jobs(?! USING)", text), text  # no table scan


def test_a_busy_file_fails_with_a_clear_error_and_nothing_applied(
    sqlite_path: Path, storage: SQLiteStorage
) -> None:
    from activejob.storage.base import StorageUnavailable

    storage.push([new_job()])
    impatient = SQLiteStorage(sqlite_path, busy_timeout=0.05)
    blocker = sqlite3.connect(sqlite_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageUnavailable, match="locked"):
            impatient.claim("w", ["*"], 5)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert [c.attempts for c in impatient.claim("w", ["*"], 5)] == [1]
    impatient.close()


def test_writers_of_one_storage_queue_for_each_other_within_the_busy_timeout(
    sqlite_path: Path,
) -> None:
    """A worker's threads write through one storage: the second writer waits for the
    first to commit (then succeeds), and gives up with SQLite's own error once the
    busy timeout has passed."""
    from activejob.storage.base import StorageUnavailable

    storage = SQLiteStorage(sqlite_path, busy_timeout=0.2)
    storage.migrate()
    storage.push([new_job()])
    inside, leave = threading.Event(), threading.Event()
    outcome: list[object] = []

    def hold() -> None:
        with storage._transaction():
            inside.set()
            leave.wait(10)

    def claim() -> None:
        try:
            outcome.append(storage.claim("w", ["*"], 5))
        except StorageUnavailable as exc:
            outcome.append(exc)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    started = time.monotonic()
    claimer = threading.Thread(target=claim)
    claimer.start()
    claimer.join(10)
    waited = time.monotonic() - started
    assert len(outcome) == 1 and isinstance(outcome[0], StorageUnavailable), outcome
    assert "locked" in str(outcome[0])
    assert waited >= 0.2
    # Released while the second one waits: it goes on as soon as the first commits.
    claimer = threading.Thread(target=claim)
    claimer.start()
    leave.set()
    holder.join(10)
    claimer.join(10)
    assert [c.attempts for c in outcome[1]] == [1]  # type: ignore[union-attr]
    storage.close()


def test_push_validates_before_writing(storage: SQLiteStorage) -> None:
    with pytest.raises(ValueError):
        storage.push([NewJob("a", "A", "q", 0, "[1, 2]")])


def test_the_default_adapter_is_a_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from activejob.adapters.cache import resolve_adapter
    from activejob.adapters.sqlite import SQLiteAdapter
    from activejob.status import status

    monkeypatch.chdir(tmp_path)
    adapter = resolve_adapter()
    assert isinstance(adapter, SQLiteAdapter)
    job = SQLiteEcho.perform_later(5)
    assert (tmp_path / "activejob.sqlite3").exists()
    info = status(job)
    assert info is not None and info.state is JobState.READY and info.attempts == 0


def test_status_needs_a_backend_that_stores_jobs() -> None:
    from activejob.status import status

    with pytest.raises(ConfigurationError, match="keeps no"):
        status("some-id", adapter="inline:")


def test_a_query_ends_at_its_semicolon_not_at_the_comments_after_it() -> None:
    """Comment lines that introduce the next query are not part of this one: MySQL
    would run text after a ';' as a second statement and fall out of sync."""
    from activejob.storage.sql.queries import parse_queries

    text = (
        "-- name: one\nUPDATE t SET a = 1\nWHERE b = 2;\n-- the next section --\n\n"
        "-- name: two\n-- Its own comment stays.\nSELECT 1;\n"
    )
    assert parse_queries(text) == {
        "one": "UPDATE t SET a = 1\nWHERE b = 2",
        "two": "-- Its own comment stays.\nSELECT 1",
    }

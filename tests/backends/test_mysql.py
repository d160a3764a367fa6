"""MariaDB/MySQL beyond the contract: the adaptive poll, one-statement bulk enqueue,
enqueueing in the caller's transaction, SKIP LOCKED, the pool, connections the server
kills, a server that is down or too old, URLs, and migrations."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import activejob
from activejob import EnqueueError, Job
from activejob.errors import ConfigurationError
from activejob.storage.base import (
    JobFilter,
    JobState,
    Result,
    SchemaError,
    StorageConfigurationError,
    StorageUnavailable,
)
from activejob.testing.contract import new_job
from activejob.testing.contract.concurrency import limited
from activejob.transaction import in_transaction
from tests.backends.conftest import mysql_admin, with_database
from tests.worker.operator_support import bad_url

pytestmark = pytest.mark.mysql

MySQLdb = pytest.importorskip("MySQLdb")

from activejob.storage.sql.mysql import MySQLStorage  # noqa: E402
from activejob.storage.sql.mysql.storage import check_server_version  # noqa: E402


class MyEcho(Job):
    queue_as = "my-tests"

    def perform(self, value: int) -> int:
        return value


@pytest.fixture
def open_storage(mysql_url: str) -> Iterator[Any]:
    """Build storages on the test database with extra URL settings; closed after the test."""
    built: list[MySQLStorage] = []

    def build(query: str = "", url: str = mysql_url) -> MySQLStorage:
        storage = MySQLStorage.from_url(url + ("?" + query if query else ""))
        built.append(storage)
        return storage

    yield build
    for storage in built:
        storage.close()


def connect(url: str) -> Any:
    """A mysqlclient connection of the test's own to ``url``'s database."""
    conn = mysql_admin(url)
    conn.select_db(urlsplit(url).path[1:])
    return conn


def kill_connections(url: str) -> int:
    """Kill every other connection to the test database; returns how many."""
    admin = connect(url)
    try:
        cursor = admin.cursor()
        cursor.execute(
            "SELECT id FROM information_schema.processlist "
            "WHERE db = DATABASE() AND id <> CONNECTION_ID()"
        )
        ids = [row[0] for row in cursor.fetchall()]
        for thread_id in ids:
            admin.cursor().execute(f"KILL {int(thread_id)}")
    finally:
        admin.close()
    return len(ids)


# -- waking up -------------------------------------------------------------------------


def test_a_job_pushed_by_another_process_wakes_an_idle_waiter_by_polling(
    open_storage: Any,
) -> None:
    # Two storages share nothing in memory, as two processes do: only the poll sees it.
    waiter, other = open_storage("poll_interval=200ms"), open_storage()
    waiter.migrate()
    woke: list[bool] = []
    thread = threading.Thread(target=lambda: woke.append(waiter.wait(["poll"], timeout=10)))
    thread.start()
    started = time.monotonic()
    other.push([new_job("poll")])
    thread.join(10)
    assert woke == [True]
    assert time.monotonic() - started < 2


def test_the_poll_backs_off_while_idle_and_speeds_up_after_work(open_storage: Any) -> None:
    storage = open_storage("poll_interval=1s")
    assert [storage._poll_interval() for _ in range(7)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    storage.push([new_job("backoff")])
    assert storage.claim("w", ["backoff"], 1)
    assert storage._poll_interval() == 0.05
    assert storage.claim("w", ["backoff"], 1) == []
    assert storage._poll_interval() == 0.1  # an empty claim does not reset it


# -- enqueueing ------------------------------------------------------------------------


def test_bulk_enqueue_is_one_statement_with_ids_in_order(open_storage: Any) -> None:
    storage = open_storage()
    storage.migrate()
    statements: list[str] = []
    run = storage._run

    def counting(conn: Any, name: str, params: Any = None) -> Any:
        statements.append(name)
        return run(conn, name, params)

    storage._run = counting
    storage.push([new_job("spacer")])  # ids of the batch do not start at 1
    jobs = [new_job(f"q{i % 3}", payload={"n": i, "text": 'é "x" 100%'}) for i in range(500)]
    jobs[7] = new_job("q1", run_at=time.time() + 3600)
    statements.clear()
    ids = storage.push(jobs)
    assert statements == ["insert_jobs"]
    assert len(ids) == 500 and ids == sorted(ids) and len(set(ids)) == 500
    for index in [*range(0, 500, 97), 7, 499]:
        info = storage.get(jobs[index].job_id)
        assert info is not None and info.id == ids[index]
        assert info.payload == json.loads(jobs[index].payload)
    assert storage.get(jobs[7].job_id).state is JobState.SCHEDULED  # type: ignore[union-attr]
    [claimed] = storage.claim("w", ["q0"], 1)
    assert claimed.payload == jobs[0].payload


def test_adapter_enqueue_sets_provider_job_ids_on_both_schemes(mysql_url: str) -> None:
    from activejob.status import status

    for scheme in ("mysql", "mariadb"):
        activejob.configure(adapter=mysql_url.replace("mysql://", f"{scheme}://", 1))
        job = MyEcho.perform_later(1)
        many = [MyEcho(i) for i in range(3)]
        activejob.perform_all_later(many)
        info = status(job)
        assert info is not None and str(info.id) == job.provider_job_id
        assert info.state is JobState.READY and info.queue_name == "my-tests"
        assert all(m.successfully_enqueued and m.provider_job_id for m in many)


def test_enqueue_in_the_callers_transaction_commit_and_rollback(mysql_url: str) -> None:
    activejob.configure(adapter=mysql_url)
    from activejob.status import status

    conn = connect(mysql_url)
    try:
        cursor = conn.cursor()
        cursor.execute("CREATE TEMPORARY TABLE orders (id INT) ENGINE = InnoDB")
        conn.begin()
        cursor.execute("INSERT INTO orders VALUES (1)")
        with in_transaction(conn):
            kept = MyEcho.perform_later(1)
            many = [MyEcho(i) for i in range(3)]
            activejob.perform_all_later(many)
        assert kept.successfully_enqueued
        assert status(kept.job_id) is None  # invisible until the commit
        conn.commit()
        info = status(kept.job_id)
        assert info is not None and info.state is JobState.READY
        assert all(status(m.job_id) is not None for m in many)

        conn.begin()
        cursor.execute("INSERT INTO orders VALUES (2)")
        with in_transaction(conn):
            dropped = MyEcho.perform_later(2)
        conn.rollback()
        assert status(dropped.job_id) is None
        cursor.execute("SELECT id FROM orders")
        assert cursor.fetchall() == ((1,),)
    finally:
        conn.close()


def test_in_transaction_refuses_another_drivers_connection(mysql_url: str) -> None:
    import sqlite3

    activejob.configure(adapter=mysql_url)
    with (
        sqlite3.connect(":memory:") as other,
        in_transaction(other),
        pytest.raises((TypeError, EnqueueError)) as raised,
    ):
        MyEcho.perform_later(1)
    assert "MySQLdb" in str(raised.value) or "MySQLdb" in str(raised.value.__cause__)


def test_a_server_that_is_down_gives_enqueue_error_at_once() -> None:
    activejob.configure(adapter="mysql://root@127.0.0.1:1/nothing?connect_timeout=2")
    started = time.monotonic()
    with pytest.raises(EnqueueError) as raised:
        MyEcho.perform_later(1)
    assert isinstance(raised.value.__cause__, StorageUnavailable)
    assert isinstance(raised.value.__cause__.__cause__, MySQLdb.OperationalError)
    assert raised.value.__cause__.__cause__.args[0] in (2002, 2003)
    assert raised.value.__cause__.unreachable  # retried; the CLI adds its hint
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("mysql-missing-database", 1049),
        ("mysql-wrong-password", 1045),
        ("mysql-no-access-to-database", 1044),
    ],
)
def test_settings_the_server_refuses_are_configuration_errors(
    case: str, code: int, tmp_path: Path
) -> None:
    url, words = bad_url(case, tmp_path)
    storage = MySQLStorage.from_url(url)
    try:
        with pytest.raises(StorageConfigurationError, match=words) as raised:
            storage.queues()
    finally:
        storage.close()
    assert raised.value.__cause__.args[0] == code  # type: ignore[union-attr]
    assert str(raised.value).startswith(storage.describe() + ": ")
    assert "s3cret" not in str(raised.value) and "wrong" not in str(raised.value)


def test_an_unknown_url_option_is_a_configuration_error_naming_the_known_ones() -> None:
    with pytest.raises(StorageConfigurationError) as raised:
        MySQLStorage.from_url("mysql://app:s3cret@127.0.0.1/app?pool_size=2&poolsize=3")
    assert str(raised.value) == (
        "bad mysql URL mysql://app:***@127.0.0.1/app?pool_size=2&poolsize=3: unknown option "
        "'poolsize' (the mysql adapter's are pool_size, pool_timeout, max_idle, "
        "keep_finished, poll_interval, auto_migrate, connect_timeout, unix_socket)"
    )


def test_a_locked_account_is_an_outage_to_retry_not_a_configuration_error(
    mysql_server: str,
) -> None:
    user = f"aj_locked_{uuid.uuid4().hex[:8]}"
    admin = mysql_admin(mysql_server)
    admin.cursor().execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw' ACCOUNT LOCK")
    parts = urlsplit(mysql_server)
    storage = MySQLStorage.from_url(f"mysql://{user}:pw@{parts.netloc.split('@')[-1]}/test")
    try:
        with pytest.raises(StorageUnavailable) as raised:
            storage.queues()
        assert not isinstance(raised.value, StorageConfigurationError)
        assert not raised.value.unreachable
    finally:
        storage.close()
        admin.cursor().execute(f"DROP USER '{user}'@'%'")
        admin.close()


# -- claims ------------------------------------------------------------------------------


def test_claim_skips_a_row_another_transaction_holds(open_storage: Any, mysql_url: str) -> None:
    storage = open_storage()
    first, *others = [new_job("locks", priority=n) for n in range(3)]
    storage.push([first, *others])
    locker = connect(mysql_url)
    try:
        locker.begin()
        locker.cursor().execute(
            "SELECT id FROM activejob_jobs WHERE job_id = %s FOR UPDATE", (first.job_id,)
        )
        # Without SKIP LOCKED the claim would wait for the lock (50 s by default).
        done: list[Any] = []
        thread = threading.Thread(target=lambda: done.append(storage.claim("w", ["locks"], 3)))
        thread.start()
        thread.join(10)
        assert done, "the claim waited for a locked row"
        assert [c.job_id for c in done[0]] == [job.job_id for job in others]
        assert storage.get(first.job_id).state is JobState.READY  # type: ignore[union-attr]
        # Recording results looks rows up by id: it does not wait on the locked one.
        thread = threading.Thread(
            target=lambda: done.append(
                storage.complete([Result(c.id, JobState.SUCCEEDED) for c in done[0]])
            )
        )
        thread.start()
        thread.join(10)
        assert len(done) == 2, "recording results waited for a locked row"
        locker.rollback()
    finally:
        locker.close()
    assert [c.job_id for c in storage.claim("w", ["locks"], 3)] == [first.job_id]


def test_an_enqueue_is_not_held_up_by_an_open_claim(open_storage: Any) -> None:
    # READ COMMITTED sessions: a claim's transaction locks the rows it takes, not
    # the gaps beside them, so an insert meanwhile does not wait for it.
    storage, other = open_storage(), open_storage()
    storage.push([new_job("gap")])
    with storage._acquire() as conn, storage._begin(conn):
        picked = storage._run(conn, "pick_any", {"now": time.time(), "limit": 10}).fetchall()
        assert len(picked) == 1
        done: list[Any] = []
        thread = threading.Thread(target=lambda: done.append(other.push([new_job("gap")])))
        thread.start()
        thread.join(10)
        assert done, "the enqueue waited for the claim's transaction"


def test_claims_use_the_claim_indexes_beside_many_finished_rows(open_storage: Any) -> None:
    storage = open_storage()
    storage.push([new_job(f"idx{i % 4}", payload={"n": i}) for i in range(400)])
    claimed = storage.claim("w", ["*"], 300)
    storage.complete([Result(c.id, JobState.SUCCEEDED) for c in claimed])
    with storage._connection() as conn:
        cursor = conn.cursor()
        cursor.execute("ANALYZE TABLE activejob_jobs")
        cursor.fetchall()
        for name, index in (("pick_any", "claim_any"), ("pick_exact", "claim_queue")):
            query = storage.sql.queries[name].replace("FOR UPDATE SKIP LOCKED", "")
            cursor.execute("EXPLAIN " + query, {"now": time.time(), "limit": 5, "queue": "idx1"})
            [plan, *_] = cursor.fetchall()
            assert plan[5] == f"activejob_jobs_{index}", plan
            assert "filesort" not in str(plan[-1]), plan


# -- filters -----------------------------------------------------------------------------


def test_filters_compare_case_sensitively_and_escape_like(open_storage: Any) -> None:
    storage = open_storage()
    storage.push([new_job("Mixed", job_id="ab!_1"), new_job("mixed", job_id="AB%x")])
    assert [i.queue_name for i in storage.list(JobFilter(queue_name="mixed"))] == ["mixed"]
    assert [i.job_id for i in storage.list(JobFilter(job_id_prefix="ab!_"))] == ["ab!_1"]
    assert storage.list(JobFilter(job_id_prefix="ab!x")) == []
    assert storage.list(JobFilter(job_id_prefix="ab")) != storage.list(JobFilter())
    assert [i.job_id for i in storage.list(JobFilter(job_id_prefix="AB%"))] == ["AB%x"]
    assert storage.list(JobFilter(job_id_prefix="A_")) == []


# -- the pool and lost connections -------------------------------------------------------


def test_the_pool_reuses_connections_and_caps_them(open_storage: Any, mysql_url: str) -> None:
    storage = open_storage("pool_size=2&pool_timeout=0.2")
    for _ in range(20):
        storage.get("x")
    assert storage._pool.idle_count == 1
    with (
        storage._pool.connection(),
        storage._pool.connection(),
        pytest.raises(StorageUnavailable, match="pool_size=2"),
    ):
        storage.get("x")
    assert storage.get("x") is None


def test_pooled_connections_killed_by_the_server_are_replaced(
    open_storage: Any, mysql_url: str
) -> None:
    storage = open_storage()
    job = new_job()
    storage.push([job])
    assert kill_connections(mysql_url) >= 1
    # The idle pooled connection is dead: it is noticed and replaced, no error.
    assert storage.get(job.job_id) is not None
    [claimed] = storage.claim("w", ["*"], 1)
    assert kill_connections(mysql_url) >= 1
    storage.complete([Result(claimed.id, JobState.SUCCEEDED)])
    assert storage.get(job.job_id).state is JobState.SUCCEEDED  # type: ignore[union-attr]


def test_a_connection_lost_in_use_is_unavailable_then_reconnected(
    open_storage: Any, mysql_url: str
) -> None:
    storage = open_storage("pool_size=1")
    storage.push([new_job("lost")])
    with pytest.raises(StorageUnavailable), storage._acquire() as conn:
        assert kill_connections(mysql_url) == 1
        storage._run(conn, "get_job", {"job_id": "x"})
    # That connection was dropped, not pooled: the next call reconnects.
    assert [c.queue_name for c in storage.claim("w", ["lost"], 1)] == ["lost"]


# -- servers, URLs, schema ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("10.11.19-MariaDB-0+deb12u1", True),
        ("10.6.0-MariaDB", True),
        ("10.5.23-MariaDB", False),
        ("5.5.5-10.4.32-MariaDB", False),
        ("8.0.36", True),
        ("8.4.0-commercial", True),
        ("5.7.44-log", False),
    ],
)
def test_servers_without_skip_locked_are_refused(version: str, ok: bool) -> None:
    if ok:
        check_server_version(version)
    else:
        with pytest.raises(ConfigurationError, match=r"MariaDB >= 10\.6 or MySQL >= 8\.0"):
            check_server_version(version)


def test_url_settings_reach_the_storage_and_the_driver() -> None:
    storage = MySQLStorage.from_url(
        "mariadb://app%40x:p%3Ass@db.internal:3307/jobs"
        "?pool_size=3&keep_finished=2h&poll_interval=250ms&connect_timeout=4&auto_migrate=true"
    )
    assert storage.connect_args == {
        "host": "db.internal",
        "port": 3307,
        "user": "app@x",
        "password": "p:ss",
        "database": "jobs",
    }
    assert storage._pool.max_size == 3 and storage.keep_finished == 7200
    assert storage.poll_interval == 0.25 and storage.connect_timeout == 4
    assert storage.auto_migrate and "p:ss" not in repr(storage)
    with pytest.raises(StorageConfigurationError, match="unknown option 'sslmode'"):
        MySQLStorage.from_url("mysql://root@db/jobs?sslmode=require")
    with pytest.raises(ConfigurationError, match="names its database") as raised:
        MySQLStorage.from_url("mysql://root:secret@db")
    assert "secret" not in str(raised.value)


def test_a_fresh_database_says_to_migrate_then_migrates_once(mysql_server: str) -> None:
    name = f"activejob_fresh_{threading.get_ident() % 100000}"
    admin = mysql_admin(mysql_server)
    admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    admin.cursor().execute(f"CREATE DATABASE `{name}`")
    url = with_database(mysql_server, name)
    storages = [MySQLStorage.from_url(url) for _ in range(3)]
    try:
        with pytest.raises(SchemaError, match="activejob migrate"):
            storages[0].push([new_job()])
        applied: list[list[str]] = []
        threads = [
            threading.Thread(target=lambda s=s: applied.append(s.apply_migrations()))
            for s in storages
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        names = [m.name for m in storages[0].sql.migrations]
        assert names[:2] == ["0001_initial", "0002_recurring"]
        assert sorted(applied) == [[], [], names]
        latest = storages[0].sql.latest_version
        assert storages[0].schema_version() == (latest, latest)
        assert storages[1].push([new_job()])
    finally:
        for storage in storages:
            storage.close()
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def test_the_docs_list_every_url_setting_and_their_url_parses() -> None:
    from activejob.storage.sql.mysql.storage import URL_SETTINGS

    text = (Path(__file__).resolve().parents[2] / "docs" / "mysql.md").read_text()
    table = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]
    assert sorted(documented) == sorted(URL_SETTINGS)
    [url] = [line.split('"')[1] for line in text.splitlines() if 'configure(adapter="' in line]
    storage = MySQLStorage.from_url(url)  # opens no connection
    assert storage._pool.max_size == 20 and storage.describe() == (
        "mysql://app:***@db.internal:3306/app"
    )
    storage.close()


def concurrency_key_rows(url: str) -> list[str]:
    conn = connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT concurrency_key FROM activejob_concurrency_keys ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]
    finally:
        conn.close()


def test_prune_forgets_concurrency_keys_nothing_holds_or_waits_for(
    open_storage: Any, mysql_url: str
) -> None:
    storage = open_storage()
    storage.migrate()
    done = [limited(f"done/{i}") for i in range(12)]
    running, waiting = limited("running"), limited("waiting")
    storage.push([*done, running, waiting, limited("waiting")])
    claimed = {c.job_id: c for c in storage.claim("w1", ["*"], 50)}
    assert len(claimed) == 14 and waiting.job_id in claimed
    finished = [claimed[job.job_id] for job in [*done, waiting]]
    # One at a time: each completion locks its key's row, as every worker's does.
    for c in finished[:3]:
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts)])
    storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in finished[3:]])
    keys = {f"done/{i}" for i in range(12)} | {"running", "waiting"}
    assert keys <= set(concurrency_key_rows(mysql_url))  # (and those of earlier tests)
    storage.prune_batch = 5  # several batches
    storage.prune(older_than=3600)  # no finished job is old enough: only the keys go
    # "waiting" holds a slot again: its blocked job took it when the first ended.
    assert concurrency_key_rows(mysql_url) == ["running", "waiting"]
    # A forgotten key is made again on its next use, and limits as before.
    again, over = limited("done/1"), limited("done/1")
    storage.push([again, over])
    assert storage.get(over.job_id).state is JobState.BLOCKED
    assert "done/1" in concurrency_key_rows(mysql_url)


def test_a_real_deadlock_is_told_apart_as_one_a_claim_may_run_again(mysql_url: str) -> None:
    """Two transactions locking two rows in opposite orders: InnoDB rolls one back with
    1213, which a claim (one transaction) runs again; other errors are not retried."""
    from activejob.storage.sql.mysql.server import deadlocked, translated

    table = f"aj_deadlock_{uuid.uuid4().hex[:8]}"
    first, second = connect(mysql_url), connect(mysql_url)
    first.cursor().execute(f"CREATE TABLE {table} (id INT PRIMARY KEY) ENGINE=InnoDB")
    first.cursor().execute(f"INSERT INTO {table} VALUES (1), (2)")
    caught: list[BaseException] = []

    def lock(conn: Any, ids: tuple[int, int], locked: threading.Event, go: threading.Event) -> None:
        try:
            with translated():
                conn.begin()
                conn.cursor().execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", (ids[0],))
                locked.set()
                go.wait(10)
                conn.cursor().execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", (ids[1],))
                conn.rollback()
        except StorageUnavailable as exc:
            caught.append(exc)
            conn.rollback()

    events = [threading.Event() for _ in range(3)]
    threads = [
        threading.Thread(target=lock, args=(first, (1, 2), events[0], events[2])),
        threading.Thread(target=lock, args=(second, (2, 1), events[1], events[2])),
    ]
    try:
        for thread in threads:
            thread.start()
        assert events[0].wait(10) and events[1].wait(10)
        events[2].set()
        for thread in threads:
            thread.join(30)
    finally:
        first.cursor().execute(f"DROP TABLE IF EXISTS {table}")
        first.close()
        second.close()
    [victim] = caught
    assert "1213" in str(victim) and deadlocked(victim)
    assert not deadlocked(StorageUnavailable('mysql: (2003, "Can\'t connect")'))

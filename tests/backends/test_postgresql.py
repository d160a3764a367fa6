"""PostgreSQL beyond the contract: LISTEN/NOTIFY wake-ups, the polling fallback,
one-statement bulk enqueue, the pool, enqueueing in the caller's transaction, a
server that is down, and connections the server terminates."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import activejob
from activejob import EnqueueError, Job
from activejob.storage.base import ErrorInfo, JobFilter, JobState, Result, StorageUnavailable
from activejob.testing.contract import new_job
from activejob.transaction import in_transaction
from tests.support import wait_for

pytestmark = pytest.mark.postgresql

psycopg = pytest.importorskip("psycopg")

from activejob.storage.sql.postgresql import PostgreSQLStorage  # noqa: E402


class PgEcho(Job):
    queue_as = "pg-tests"

    def perform(self, value: int) -> int:
        return value


@pytest.fixture
def open_storage(pg_url: str) -> Iterator[Any]:
    """Build storages on the test database with extra URL settings; closed after the test."""
    built: list[PostgreSQLStorage] = []

    def build(query: str = "") -> PostgreSQLStorage:
        storage = PostgreSQLStorage.from_url(pg_url + ("?" + query if query else ""))
        built.append(storage)
        return storage

    yield build
    for storage in built:
        storage.close()


def terminate_backends(pg_url: str) -> int:
    """Terminate every other connection to the test database; returns how many."""
    with psycopg.connect(pg_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def idle_worker(
    storage: PostgreSQLStorage, queues: list[str]
) -> tuple[threading.Thread, list[Any]]:
    """A thread that claims, and waits (30 s at a time) while there is nothing."""
    claimed: list[Any] = []

    def run() -> None:
        deadline = time.monotonic() + 30
        while not claimed and time.monotonic() < deadline:
            claimed.extend(storage.claim("idle", queues, 1))
            if not claimed:
                storage.wait(queues, timeout=30)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, claimed


# -- waking up -------------------------------------------------------------------------


def test_notify_wakes_an_idle_worker_for_a_new_job(open_storage: Any) -> None:
    worker = open_storage("poll_interval=30")  # only NOTIFY can wake it in time
    other = open_storage()
    worker.wait(["wake"], timeout=0.01)  # starts listening
    assert worker.listener.wait_listening(5)
    thread, claimed = idle_worker(worker, ["wake"])
    job = new_job("wake")
    other.push([job])
    thread.join(5)
    assert [c.job_id for c in claimed] == [job.job_id]


def test_a_job_scheduled_while_waiting_wakes_the_worker_when_due(open_storage: Any) -> None:
    worker = open_storage("poll_interval=30")
    other = open_storage()
    worker.wait(["later"], timeout=0.01)
    assert worker.listener.wait_listening(5)
    thread, claimed = idle_worker(worker, ["later"])
    job = new_job("later", run_at=time.time() + 0.3)
    other.push([job])
    thread.join(5)
    assert [c.job_id for c in claimed] == [job.job_id]


def test_a_retried_job_wakes_an_idle_worker(open_storage: Any) -> None:
    worker = open_storage("poll_interval=30")
    operator = open_storage()
    job = new_job("again")
    worker.push([job])
    [claimed] = worker.claim("w", ["again"], 1)
    worker.complete([Result(claimed.id, JobState.FAILED, error=ErrorInfo("E", "x", ""))])
    worker.wait(["again"], timeout=0.01)
    assert worker.listener.wait_listening(5)
    thread, again = idle_worker(worker, ["again"])
    assert operator.retry(JobFilter(job_ids=[job.job_id])) == 1
    thread.join(5)
    assert [c.job_id for c in again] == [job.job_id]


def test_without_listen_waiting_falls_back_to_polling(open_storage: Any) -> None:
    worker = open_storage("listen=false&poll_interval=0.2")
    other = open_storage()
    assert worker.listener is None
    thread, claimed = idle_worker(worker, ["polled"])
    other.push([new_job("polled")])
    thread.join(5)
    assert claimed, "the poll never found the job"


def test_resuming_a_queue_notifies_workers_in_other_processes(
    open_storage: Any, pg_url: str
) -> None:
    operator = open_storage()
    operator.pause("held")
    with psycopg.connect(pg_url, autocommit=True) as listener:
        listener.execute("LISTEN activejob")
        operator.resume("held")
        payloads = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert payloads == ["held"]


def test_notifications_for_other_queues_do_not_wake_a_waiter(open_storage: Any) -> None:
    worker = open_storage("poll_interval=30")
    other = open_storage()
    worker.wait(["mine"], timeout=0.01)
    assert worker.listener.wait_listening(5)
    returned = threading.Event()

    def waiter() -> None:
        worker.wait(["mine"], timeout=1.0)
        returned.set()

    started = time.monotonic()
    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    other.push([new_job("theirs")])
    assert returned.wait(5)
    assert time.monotonic() - started >= 0.95


# -- enqueueing ------------------------------------------------------------------------


def test_bulk_enqueue_is_one_statement(open_storage: Any) -> None:
    storage = open_storage()
    storage.migrate()
    statements: list[str] = []
    run = storage._run

    def counting(conn: Any, name: str, params: Any = None) -> Any:
        statements.append(name)
        return run(conn, name, params)

    storage._run = counting
    jobs = [new_job(f"q{i % 3}", payload={"n": i, "text": 'é "x"'}) for i in range(500)]
    ids = storage.push(jobs)
    assert statements == ["insert_jobs"]
    assert len(ids) == 500 and ids == sorted(ids)
    for index in range(0, 500, 97):
        info = storage.get(jobs[index].job_id)
        assert info is not None and info.id == ids[index] and info.payload["n"] == index
    [claimed] = storage.claim("w", ["q0"], 1)
    assert claimed.payload == jobs[0].payload


def test_adapter_enqueue_sets_provider_job_ids(pg_url: str) -> None:
    activejob.configure(adapter=pg_url)
    job = PgEcho.perform_later(1)
    many = [PgEcho(i) for i in range(3)]
    activejob.perform_all_later(many)
    from activejob.status import status

    info = status(job)
    assert info is not None and str(info.id) == job.provider_job_id
    assert info.state is JobState.READY and info.queue_name == "pg-tests"
    assert all(m.successfully_enqueued and m.provider_job_id for m in many)


def test_enqueue_in_the_callers_transaction_commit_and_rollback(pg_url: str) -> None:
    activejob.configure(adapter=pg_url)
    from activejob.status import status

    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TEMP TABLE orders (id int)")
        conn.commit()
        with conn.transaction():
            conn.execute("INSERT INTO orders VALUES (1)")
            with in_transaction(conn):
                kept = PgEcho.perform_later(1)
            assert kept.successfully_enqueued
            assert status(kept.job_id) is None  # invisible until the commit
        info = status(kept.job_id)
        assert info is not None and info.state is JobState.READY

        with pytest.raises(ZeroDivisionError), conn.transaction():
            conn.execute("INSERT INTO orders VALUES (2)")
            with in_transaction(conn):
                dropped = PgEcho.perform_later(2)
            raise ZeroDivisionError
        assert status(dropped.job_id) is None
        assert conn.execute("SELECT id FROM orders").fetchall() == [(1,)]


def test_a_server_that_is_down_gives_enqueue_error_at_once() -> None:
    activejob.configure(adapter="postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2")
    started = time.monotonic()
    with pytest.raises(EnqueueError) as raised:
        PgEcho.perform_later(1)
    assert isinstance(raised.value.__cause__, StorageUnavailable)
    assert isinstance(raised.value.__cause__.__cause__, psycopg.OperationalError)
    assert time.monotonic() - started < 2


def test_url_settings_reach_the_storage_and_libpq(open_storage: Any, pg_url: str) -> None:
    storage = open_storage(
        "pool_size=3&keep_finished=2h&prepare_threshold=none&application_name=aj-url-test"
    )
    assert storage._pool.max_size == 3 and storage.keep_finished == 7200
    assert storage.prepare_threshold is None
    storage.get("x")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        names = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aj-url-test'"
        ).fetchone()
    assert names == (1,)


def test_url_values_reach_libpq_percent_decoded(open_storage: Any) -> None:
    # libpq decodes %20 but not "+": a space must travel as %20.
    storage = open_storage("options=-c%20statement_timeout%3D4321")
    with storage._pool.connection() as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("4321ms",)


def test_claims_leave_the_sessions_settings_as_they_were(open_storage: Any) -> None:
    # Claims commit asynchronously for their own transaction only: a pooled
    # connection (or a PgBouncer server connection) must keep synchronous_commit.
    storage = open_storage("pool_size=1")
    storage.push([new_job("settings"), new_job("settings")])
    assert len(storage.claim("w", ["settings"], 1)) == 1
    assert len(storage.claim("w", ["*"], 1)) == 1
    assert storage.claim("w", ["settings*"], 1) == []
    with storage._pool.connection() as conn:
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)


def test_claim_skips_a_row_another_transaction_holds(open_storage: Any, pg_url: str) -> None:
    # Without SKIP LOCKED the claim would wait for the lock: lock_timeout turns that
    # wait into an error instead of a hang.
    storage = open_storage("options=-c%20lock_timeout%3D2000")
    first, *others = [new_job("locks", priority=n) for n in range(3)]
    storage.push([first, *others])
    with psycopg.connect(pg_url) as locker:
        lock = "SELECT id FROM activejob_jobs WHERE job_id = %s FOR UPDATE"
        locker.execute(lock, (first.job_id,))

        claimed = storage.claim("w", ["locks"], 3)

        assert [c.job_id for c in claimed] == [job.job_id for job in others]
        assert storage.get(first.job_id).state is JobState.READY  # type: ignore[union-attr]
        locker.rollback()
    assert [c.job_id for c in storage.claim("w", ["locks"], 3)] == [first.job_id]


# -- the pool ----------------------------------------------------------------------------


def test_the_pool_reuses_connections_and_caps_them(open_storage: Any, pg_url: str) -> None:
    storage = open_storage("pool_size=2&pool_timeout=0.2&application_name=aj-pool-test")
    for _ in range(20):
        storage.get("x")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        count = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aj-pool-test'"
        ).fetchone()
    assert count == (1,)
    with (
        storage._pool.connection(),
        storage._pool.connection(),
        pytest.raises(StorageUnavailable, match="pool_size=2"),
    ):
        storage.get("x")
    assert storage.get("x") is None


# -- connections the server terminates --------------------------------------------------


def test_pooled_connections_terminated_by_the_server_are_replaced(
    open_storage: Any, pg_url: str
) -> None:
    storage = open_storage()
    job = new_job()
    storage.push([job])
    assert terminate_backends(pg_url) >= 1
    # The idle pooled connection is dead: it is noticed and replaced, no error.
    info = storage.get(job.job_id)
    assert info is not None
    [claimed] = storage.claim("w", ["*"], 1)
    assert terminate_backends(pg_url) >= 1
    storage.complete([Result(claimed.id, JobState.SUCCEEDED)])
    assert storage.get(job.job_id).state is JobState.SUCCEEDED  # type: ignore[union-attr]


def test_the_listen_connection_comes_back_after_termination(open_storage: Any, pg_url: str) -> None:
    worker = open_storage("poll_interval=30")
    other = open_storage()
    worker.wait(["back"], timeout=0.01)
    assert worker.listener.wait_listening(5)
    assert worker.listener.connections == 1
    terminate_backends(pg_url)
    wait_for(lambda: worker.listener.connections == 2 and worker.listener.listening)
    thread, claimed = idle_worker(worker, ["back"])
    other.push([new_job("back")])
    thread.join(5)
    assert claimed, "no wake-up after the LISTEN connection was re-established"


def test_a_batch_cut_off_mid_statement_is_not_half_applied(open_storage: Any, pg_url: str) -> None:
    storage = open_storage("application_name=aj-cut-test")
    jobs = [new_job(), new_job()]
    storage.push(jobs)
    claimed = storage.claim("w", ["*"], 2)
    results = [Result(c.id, JobState.SUCCEEDED) for c in claimed]
    failures: list[BaseException] = []
    with psycopg.connect(pg_url) as locker:
        # Hold one row so the batch's UPDATE blocks half-way through it.
        locker.execute("SELECT id FROM activejob_jobs WHERE id = %s FOR UPDATE", (claimed[1].id,))

        def complete() -> None:
            try:
                storage.complete(results)
            except BaseException as exc:
                failures.append(exc)

        thread = threading.Thread(target=complete)
        thread.start()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            blocked = "SELECT pid FROM pg_stat_activity WHERE application_name = 'aj-cut-test' AND wait_event_type = 'Lock'"  # noqa: E501
            wait_for(lambda: admin.execute(blocked).fetchall())
            admin.execute(f"SELECT pg_terminate_backend(pid) FROM ({blocked}) AS b")
        thread.join(5)
        locker.rollback()
    assert len(failures) == 1 and isinstance(failures[0], StorageUnavailable)
    assert [storage.get(j.job_id).state for j in jobs] == [JobState.RUNNING] * 2  # type: ignore[union-attr]
    storage.complete(results)  # the worker retries the same batch
    assert [storage.get(j.job_id).state for j in jobs] == [JobState.SUCCEEDED] * 2  # type: ignore[union-attr]


# -- indexes -----------------------------------------------------------------------------


def test_claims_use_the_partial_indexes_beside_many_finished_rows(
    open_storage: Any, pg_url: str
) -> None:
    storage = open_storage()
    storage.push([new_job("default") for _ in range(20)])
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload,"
            " run_at, created_at, finished_at) SELECT g::text, 'Done', 'default', 0, 'succeeded',"
            " '{}', now(), now(), now() FROM generate_series(1, 30000) AS g"
        )
        conn.execute("ANALYZE activejob_jobs")
        for name, queue in (("claim_any", ""), ("claim_exact", "default")):
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    "EXPLAIN " + storage.sql.queries[name],
                    {"worker_id": "w", "now": time.time(), "limit": 10, "queue": queue},
                ).fetchall()
            )
            assert "activejob_jobs_claim" in plan and "Seq Scan on activejob_jobs" not in plan, plan
    assert len(storage.claim("w", ["default"], 50)) == 20

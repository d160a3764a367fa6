"""The raw speed of the servers underneath, measured the simplest way.

Each function does what a job queue must do at minimum, with the driver alone,
and returns operations per second (the ``*_handoff_latency`` ones: a list of
delays in seconds, from one process to another that was idle). ``bench/run.py``
prints ours next to these, measured in the same run, as ratios.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from typing import Any

PAYLOAD = json.dumps(
    {
        "version": 1,
        "job_class": "bench.jobs.NoopJob",
        "job_id": "00000000-0000-4000-8000-000000000000",
        "provider_job_id": None,
        "queue_name": "default",
        "priority": None,
        "arguments": [42],
        "kwargs": {},
        "executions": 0,
        "exception_executions": {},
        "locale": None,
        "timezone": None,
        "enqueued_at": "2026-11-28T14:00:00.000000+00:00",
        "scheduled_at": None,
        "metadata": {},
    }
)


# -- PostgreSQL -------------------------------------------------------------------------


def _pg_table(conn: Any) -> None:
    conn.execute("DROP TABLE IF EXISTS bench_raw")
    conn.execute(
        "CREATE TABLE bench_raw (id bigserial PRIMARY KEY, queue text NOT NULL, payload text)"
    )


def pg_insert_loop(url: str, n: int) -> float:
    """Single-row INSERT, one autocommit round trip each."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        _pg_table(conn)
        started = time.perf_counter()
        for _ in range(n):
            conn.execute(
                "INSERT INTO bench_raw (queue, payload) VALUES (%s, %s)",
                ("default", PAYLOAD),
                prepare=True,
            )
        return n / (time.perf_counter() - started)


def pg_multirow_insert(url: str, n: int) -> float:
    """All rows in one multi-row INSERT statement."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        _pg_table(conn)
        values = ",".join(["(%s, %s)"] * n)
        params: list[str] = []
        for _ in range(n):
            params += ["default", PAYLOAD]
        started = time.perf_counter()
        conn.execute(f"INSERT INTO bench_raw (queue, payload) VALUES {values}", params)  # type: ignore[arg-type]
        return n / (time.perf_counter() - started)


def pg_claim_delete_loop(url: str, n: int) -> float:
    """Claim one row with SKIP LOCKED and delete it: one autocommit round trip each."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        _pg_table(conn)
        conn.execute(
            "INSERT INTO bench_raw (queue, payload) "
            "SELECT 'default', %s FROM generate_series(1, %s)",
            (PAYLOAD, n),
        )
        query = (
            "DELETE FROM bench_raw WHERE id = (SELECT id FROM bench_raw WHERE queue = %s "
            "ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING payload"
        )
        started = time.perf_counter()
        for _ in range(n):
            row = conn.execute(query, ("default",), prepare=True).fetchone()
            assert row is not None
            json.loads(row[0])
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw")
        return n / elapsed


# -- MariaDB / MySQL --------------------------------------------------------------------


def _my_connect(url: str) -> Any:
    from urllib.parse import unquote, urlsplit

    import MySQLdb

    parts = urlsplit(url)
    return MySQLdb.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
        user=unquote(parts.username or "root"), password=unquote(parts.password or ""),
        database=parts.path[1:], autocommit=True, charset="utf8mb4",
    )  # fmt: skip


def _my_table(conn: Any) -> None:
    cursor = conn.cursor()
    cursor.execute("DROP TABLE IF EXISTS bench_raw")
    cursor.execute(
        "CREATE TABLE bench_raw (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
        "queue VARCHAR(255) NOT NULL, payload LONGTEXT, KEY (queue, id)) ENGINE = InnoDB"
    )


def my_insert_loop(url: str, n: int) -> float:
    """Single-row INSERT, one autocommit round trip each (mysqlclient)."""
    conn = _my_connect(url)
    try:
        _my_table(conn)
        cursor = conn.cursor()
        started = time.perf_counter()
        for _ in range(n):
            cursor.execute(
                "INSERT INTO bench_raw (queue, payload) VALUES (%s, %s)", ("default", PAYLOAD)
            )
        return n / (time.perf_counter() - started)
    finally:
        conn.close()


def my_multirow_insert(url: str, n: int) -> float:
    """All rows in one multi-row INSERT statement."""
    conn = _my_connect(url)
    try:
        _my_table(conn)
        values = ",".join(["(%s, %s)"] * n)
        params: list[str] = []
        for _ in range(n):
            params += ["default", PAYLOAD]
        started = time.perf_counter()
        conn.cursor().execute(f"INSERT INTO bench_raw (queue, payload) VALUES {values}", params)
        return n / (time.perf_counter() - started)
    finally:
        conn.close()


def my_claim_delete_loop(url: str, n: int) -> float:
    """Claim one row with SKIP LOCKED and delete it: there is no DELETE ... RETURNING
    with a locking subquery, so BEGIN, SELECT ... FOR UPDATE SKIP LOCKED, DELETE, COMMIT."""
    conn = _my_connect(url)
    try:
        _my_table(conn)
        cursor = conn.cursor()
        cursor.executemany(
            "INSERT INTO bench_raw (queue, payload) VALUES (%s, %s)", [("default", PAYLOAD)] * n
        )
        pick = (
            "SELECT id, payload FROM bench_raw WHERE queue = %s "
            "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        )
        started = time.perf_counter()
        for _ in range(n):
            conn.begin()
            cursor.execute(pick, ("default",))
            row = cursor.fetchone()
            assert row is not None
            cursor.execute("DELETE FROM bench_raw WHERE id = %s", (row[0],))
            conn.commit()
            json.loads(row[1])
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_raw")
        return n / elapsed
    finally:
        conn.close()


PG_RECEIVER = """
import select, sys, time, psycopg
listen = psycopg.connect(sys.argv[1], autocommit=True)
listen.execute("LISTEN bench_raw")
conn = psycopg.connect(sys.argv[1], autocommit=True)
claim = ("DELETE FROM bench_raw WHERE id = (SELECT id FROM bench_raw ORDER BY id "
         "FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING payload")
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    while True:
        select.select([listen.fileno()], [], [])
        listen.pgconn.consume_input()
        woken = False
        while listen.pgconn.notifies() is not None:
            woken = True
        if woken:
            break
    sent = conn.execute(claim, prepare=True).fetchone()[0]
    print(time.time() - float(sent), flush=True)
"""


def pg_handoff_latency(url: str, samples: int) -> list[float]:
    """Seconds from an INSERT + NOTIFY to another process, blocked on LISTEN, having
    claimed the row (DELETE ... SKIP LOCKED): the least a durable hand-off costs."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        _pg_table(conn)
        receiver = subprocess.Popen(
            [sys.executable, "-c", PG_RECEIVER, url, str(samples)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert receiver.stdout is not None
            assert receiver.stdout.readline().strip() == "ready"
            delays = []
            for _ in range(samples):
                time.sleep(0.01)  # sleep-ok: let the receiver go idle, as an idle worker is
                conn.execute(
                    "WITH j AS (INSERT INTO bench_raw (queue, payload) VALUES ('default', %s)"
                    " RETURNING id) SELECT j.id FROM j, pg_notify('bench_raw', '')",
                    (repr(time.time()),),
                    prepare=True,
                )
                delays.append(float(receiver.stdout.readline()))
            receiver.wait(10)
        finally:
            if receiver.poll() is None:
                receiver.kill()
        conn.execute("DROP TABLE bench_raw")
    return delays


# -- SQLite -------------------------------------------------------------------------------


def _sqlite(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("DROP TABLE IF EXISTS bench_raw")
    conn.execute(
        "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, payload TEXT)"
    )
    return conn


def sqlite_insert_loop(path: str, n: int) -> float:
    """Single-row INSERT, each in its own transaction (autocommit)."""
    conn = _sqlite(path)
    started = time.perf_counter()
    for _ in range(n):
        conn.execute("INSERT INTO bench_raw (queue, payload) VALUES (?, ?)", ("default", PAYLOAD))
    rate = n / (time.perf_counter() - started)
    conn.close()
    return rate


def sqlite_multirow_insert(path: str, n: int) -> float:
    """All rows in one transaction with executemany."""
    conn = _sqlite(path)
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO bench_raw (queue, payload) VALUES (?, ?)", [("default", PAYLOAD)] * n
    )
    conn.execute("COMMIT")
    rate = n / (time.perf_counter() - started)
    conn.close()
    return rate


def sqlite_claim_delete_loop(path: str, n: int) -> float:
    """BEGIN IMMEDIATE; select the oldest row; delete it; COMMIT — per job."""
    conn = _sqlite(path)
    conn.executemany(
        "INSERT INTO bench_raw (queue, payload) VALUES (?, ?)", [("default", PAYLOAD)] * n
    )
    started = time.perf_counter()
    for _ in range(n):
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "SELECT id, payload FROM bench_raw WHERE queue = ? ORDER BY id LIMIT 1", ("default",)
        ).fetchone()
        conn.execute("DELETE FROM bench_raw WHERE id = ?", (row[0],))
        conn.execute("COMMIT")
        json.loads(row[1])
    rate = n / (time.perf_counter() - started)
    conn.close()
    return rate


# -- Redis --------------------------------------------------------------------------------


def redis_lpush_loop(url: str, key: str, n: int) -> float:
    """``LPUSH`` one message per round trip."""
    import redis

    with redis.Redis.from_url(url) as client:
        started = time.perf_counter()
        for _ in range(n):
            client.lpush(key, PAYLOAD)
        rate = n / (time.perf_counter() - started)
        client.delete(key)
    return rate


def redis_pipelined_lpush(url: str, key: str, n: int) -> float:
    """``n`` ``LPUSH`` commands in one pipeline."""
    import redis

    with redis.Redis.from_url(url) as client:
        started = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        for _ in range(n):
            pipe.lpush(key, PAYLOAD)
        pipe.execute()
        rate = n / (time.perf_counter() - started)
        client.delete(key)
    return rate


def redis_brpop_loop(url: str, key: str, n: int) -> float:
    """``BRPOP`` one message per round trip, decoding each payload."""
    import redis

    with redis.Redis.from_url(url) as client:
        pipe = client.pipeline(transaction=False)
        for _ in range(n):
            pipe.lpush(key, PAYLOAD)
        pipe.execute()
        started = time.perf_counter()
        for _ in range(n):
            _, body = client.brpop([key], timeout=1)  # type: ignore[misc]
            json.loads(body)
        rate = n / (time.perf_counter() - started)
        client.delete(key)
    return rate


REDIS_RECEIVER = """
import sys, time, redis
client = redis.Redis.from_url(sys.argv[1])
print("ready", flush=True)
for _ in range(int(sys.argv[3])):
    _, sent = client.brpop([sys.argv[2]])
    print(time.time() - float(sent), flush=True)
"""


def redis_handoff_latency(url: str, key: str, samples: int) -> list[float]:
    """Seconds from an ``LPUSH`` to another process, blocked in ``BRPOP``, having it."""
    import redis

    receiver = subprocess.Popen(
        [sys.executable, "-c", REDIS_RECEIVER, url, key, str(samples)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
        delays = []
        with redis.Redis.from_url(url) as client:
            for _ in range(samples):
                time.sleep(0.01)  # sleep-ok: let the receiver go idle, as an idle worker is
                client.lpush(key, repr(time.time()))
                delays.append(float(receiver.stdout.readline()))
            client.delete(key)
        receiver.wait(10)
    finally:
        if receiver.poll() is None:
            receiver.kill()
    return delays

"""The raw speed of the servers underneath, measured the simplest way.

Each function does what a job queue must do at minimum, with the driver alone,
and returns operations per second. The benchmark prints ours next to these, in
the same run, as ratios.
"""

from __future__ import annotations

import json
import sqlite3
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

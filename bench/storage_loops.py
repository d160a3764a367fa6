"""The storage alone, on one thread, for any backend: what the adapters and the
worker call, without the job system around it.

- ``push_rate``: ``storage.push([job])`` per job, one round trip each;
- ``sqlite_insert_statement_rate``: the SQLite storage's own ``insert_job``
  statement, run by ``sqlite3`` with nothing of ours around it (autocommit, one
  job a transaction, like ``push``): what the schema costs an enqueue;
- ``claim_complete_rate``: claim 50, decode each payload, ``complete`` the 50 as
  one batch, until the queue is empty.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence

from bench_jobs import QUEUE, NoopJob

from activejob import _time
from activejob.storage.base import JobFilter, JobState, NewJob, Result, Storage
from activejob.storage.sql.rows import job_row
from activejob.storage.sql.sqlite.storage import SQLiteStorage


def _rows(n: int) -> list[NewJob]:
    payload = json.dumps(NoopJob(0).serialize())
    return [NewJob(f"bench-{i}", NoopJob.job_class_name, QUEUE, 0, payload) for i in range(n)]


def _empty(storage: Storage) -> None:
    storage.discard(JobFilter(queue_name=QUEUE))
    storage.prune(0)


def push_rate(storage: Storage, n: int) -> float:
    """Jobs per second pushed one per call."""
    rows = _rows(n)
    started = time.perf_counter()
    for row in rows:
        storage.push([row])
    rate = n / (time.perf_counter() - started)
    _empty(storage)
    return rate


def sqlite_insert_statement_rate(
    storage: SQLiteStorage, n: int, setup: Sequence[str] = ()
) -> float:
    """Jobs per second inserted by ``storage``'s ``insert_job`` statement alone, on a
    ``sqlite3`` connection of its own with the storage's pragmas, parameters made
    beforehand; ``setup``'s statements run on it first (``bench/sqlite_push_split.py``
    drops indexes that way, on a database of its own)."""
    sql = storage.sql.queries["insert_job"]
    params = [{**job_row(row), "now": _time.now()} for row in _rows(n)]
    conn = sqlite3.connect(storage.path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={storage.synchronous}")
        for statement in setup:
            conn.execute(statement)
        started = time.perf_counter()
        for one in params:
            conn.execute(sql, one).fetchone()
        rate = n / (time.perf_counter() - started)
    finally:
        conn.close()
    _empty(storage)
    return rate


def claim_complete_rate(storage: Storage, n: int, batch: int = 50, *, empty: bool = True) -> float:
    """Jobs per second claimed and completed a batch per round trip (``empty``:
    prune every finished job afterwards)."""
    for start in range(0, n, 5000):
        storage.push(_rows(min(5000, n - start)))
    done = 0
    started = time.perf_counter()
    while claimed := storage.claim("bench-loop", [QUEUE], batch):
        for job in claimed:
            json.loads(job.payload)
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
        done += len(claimed)
    rate = n / (time.perf_counter() - started)
    if done != n:
        raise RuntimeError(f"claimed {done} of {n} jobs")
    if empty:
        _empty(storage)
    return rate

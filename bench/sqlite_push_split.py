"""What an SQLite enqueue's floor is, beside ``bench/run.py``'s raw insert loop
(a two-column table with its primary key only, one row a transaction).

The steps, each one job a transaction on a fresh database file, ``WAL`` and
``synchronous=NORMAL`` as the storage sets them:

- ``raw insert loop``: ``bench/raw.py``'s loop;
- ``our INSERT``: the storage's own ``insert_job`` statement on its migrated
  schema, run by ``sqlite3`` with nothing of ours around it (parameters made
  beforehand);
- the same without the dashboard's three indexes, then without any index but
  the primary key, then that with ``wal_autocheckpoint=0`` too (the WAL is never
  copied back while the step runs): what each costs, as a trial (the storage
  keeps every one of them: the claims, ``status`` and the dashboard read them);
- ``storage.push``: ``storage.push([job])`` one job a call, as ``perform_later``
  makes it.

Rounds are interleaved; each figure is the median of ``--rounds``.

    .venv/bin/python bench/sqlite_push_split.py
    .venv/bin/python bench/sqlite_push_split.py --jobs 10000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import raw
import storage_loops

from activejob.storage.sql.sqlite.storage import SQLiteStorage

DASHBOARD = ("activejob_jobs_state_queue", "activejob_jobs_state", "activejob_jobs_pending_run_at")
CLAIMS = ("activejob_jobs_claim_any", "activejob_jobs_claim_queue", "activejob_jobs_job_id")


def drop(indexes: Sequence[str]) -> list[str]:
    """The statements that drop ``indexes``."""
    return [f"DROP INDEX {name}" for name in indexes]


def fresh_storage(path: str) -> SQLiteStorage:
    """A migrated storage on a new file at ``path``."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    storage = SQLiteStorage.from_url(f"sqlite:///{path}")
    storage.migrate()
    return storage


def our_insert(path: str, n: int, setup: Sequence[str] = ()) -> float:
    """Jobs per second of ``insert_job`` alone on a fresh database, after ``setup``'s
    statements (``DROP INDEX``, ``PRAGMA``)."""
    storage = fresh_storage(path)
    try:
        return storage_loops.sqlite_insert_statement_rate(storage, n, setup)
    finally:
        storage.close()


def push(path: str, n: int) -> float:
    """Jobs per second of ``storage.push``, one job a call."""
    storage = fresh_storage(path)
    try:
        return storage_loops.push_rate(storage, n)
    finally:
        storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.jobs
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "push.sqlite3")
        raw_path = os.path.join(tmp, "raw.sqlite3")
        steps: dict[str, Callable[[], float]] = {
            "raw insert loop": lambda: raw.sqlite_insert_loop(raw_path, n),
            "our INSERT, our schema": lambda: our_insert(path, n),
            "  without the dashboard's 3 indexes": lambda: our_insert(path, n, drop(DASHBOARD)),
            "  without any index": lambda: our_insert(path, n, drop(DASHBOARD + CLAIMS)),
            "  without any index, no checkpoint": lambda: our_insert(
                path, n, [*drop(DASHBOARD + CLAIMS), "PRAGMA wal_autocheckpoint=0"]
            ),
            "storage.push": lambda: push(path, n),
        }
        found: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(args.rounds):
            for name, step in steps.items():
                found[name].append(step())
    base = statistics.median(found["raw insert loop"])
    print(f"sqlite {sqlite3.sqlite_version}, {n} jobs, median of {args.rounds} rounds")
    print(f"| {'step':38} | jobs/s | µs a job | vs raw |")
    print(f"|{'-' * 40}|-------:|---------:|-------:|")
    for name, rates in found.items():
        rate = statistics.median(rates)
        print(f"| {name:38} | {rate:6,.0f} | {1e6 / rate:8.1f} | {rate / base:5.2f}x |")


if __name__ == "__main__":
    main()

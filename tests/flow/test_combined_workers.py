"""Unique keys, concurrency limits and a rate limit on one job class, end to end:
eight threads enqueue every job at once, then two real worker processes run them,
on each real server. No job is stored or run twice, never more than two run per
account (a ledger of starts and ends proves it), and no window has more starts than
the rate limit allows."""

from __future__ import annotations

import threading
from pathlib import Path

from activejob.storage.base import JobFilter, JobState
from tests.acceptance.cli_backends import Backend
from tests.flow import combined_jobs
from tests.flow.combined_jobs import Combined
from tests.flow.test_concurrency_workers import (
    Workers,
    backend,
    mysql_cli_database,
    pg_cli_database,
    read_ledger,
    wait_for_workers,
    workers,
)
from tests.flow.test_rate_workers import most_in_a_window
from tests.support import wait_for

# The fixtures, one backend per server and its worker processes.
__all__ = ["backend", "mysql_cli_database", "pg_cli_database", "workers"]

ENQUEUERS = 8
JOBS = [(account, f"{account}-{i}") for i in range(5) for account in ("acme", "globex")]


def enqueue_from_many_threads(ledger: str) -> list[Combined]:
    """Every job of :data:`JOBS`, enqueued by each of :data:`ENQUEUERS` threads at once."""
    start = threading.Barrier(ENQUEUERS)
    made: list[Combined] = []
    errors: list[BaseException] = []

    def enqueue() -> None:
        try:
            start.wait(10)
            for account, tag in JOBS:
                made.append(Combined.perform_later(account, ledger, tag))
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=enqueue) for _ in range(ENQUEUERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return made


def test_unique_limited_rate_limited_jobs_across_two_workers(
    backend: Backend, workers: Workers, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    made = enqueue_from_many_threads(str(ledger))
    stored = [job for job in made if job.successfully_enqueued]
    assert len(made) == ENQUEUERS * len(JOBS)
    assert sorted(job.arguments[2] for job in stored) == sorted(tag for _, tag in JOBS)
    assert all(job.duplicate_of for job in made if not job.successfully_enqueued)
    workers.start(count=2, threads=3, imports="tests.flow.combined_jobs")
    wait_for_workers(backend, 2)
    wait_for(
        lambda: (
            len(backend.storage.list(JobFilter(states=[JobState.SUCCEEDED], limit=None)))
            >= len(stored)
        ),
        timeout=30,
    )
    rows = read_ledger(ledger)
    starts = sorted(tag for what, tag, *_ in rows if what == "start")
    assert starts == sorted(tag for _, tag in JOBS), workers.output()  # each once
    # Never two runs of one tag (one unique key) at once, never more than two per account.
    assert max(most_per(rows, lambda row: row[1]).values()) == 1
    assert max(most_per(rows, lambda row: row[2]).values()) <= combined_jobs.PER_ACCOUNT
    # The store's start times (the claims) hold the rate limit exactly.
    infos = backend.storage.list(JobFilter(states=[JobState.SUCCEEDED], limit=None))
    claims = [info.started_at.timestamp() for info in infos if info.started_at]
    assert len(claims) == len(stored)
    assert most_in_a_window(claims, combined_jobs.PER) <= combined_jobs.STARTS
    assert len({pid for *_, pid in rows}) == 2  # both worker processes took part


def most_per(rows: list[tuple[str, str, str, float, int]], group: object) -> dict[str, int]:
    """The most runs in progress at once, per ``group(row)``."""
    assert callable(group)
    now: dict[str, int] = {}
    most: dict[str, int] = {}
    for row in rows:
        key = group(row)
        now[key] = now.get(key, 0) + (1 if row[0] == "start" else -1)
        most[key] = max(most.get(key, 0), now[key])
    return most

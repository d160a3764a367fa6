"""Unique enqueue next to plain enqueue (flow: unique), per backend, in the same run.

    .venv/bin/python bench/flow_unique.py                       # every backend
    .venv/bin/python bench/flow_unique.py --backends sqlite,redis --n 500

For each backend (SQLite in a temporary file; PostgreSQL and MariaDB in a scratch
database ``activejob_bench_unique``, dropped at the end; Redis under a fresh key
prefix, deleted at the end), ``perform_later`` one job at a time:

- unique enqueue: a ``@unique`` job, each with new arguments, so every insert wins
  its key (the common case), vs the same job without ``@unique`` (same module, same
  class-name length, same arguments: payloads of the same size). Target >= 0.8x.
- every one a duplicate: the refused path (the insert loses to the index, the
  holder is looked up and named in ``duplicate_of``), vs plain enqueue; no target.

Within a round the three kinds are enqueued one job at a time in turn (plain,
unique, duplicate, then the next three in another order), each call timed on its
own, so a drift in the machine's speed (other processes on a shared machine) falls
on all three alike; each kind's rate is the median of the rounds. ``bench/run.py``
(``make bench``) gets the same rows from :func:`rows`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

from bench_jobs import QUEUE  # noqa: E402

import activejob  # noqa: E402
from activejob import Job, unique  # noqa: E402
from activejob.adapters.cache import reset_adapters  # noqa: E402
from activejob.adapters.durable import storage_of  # noqa: E402
from activejob.storage.base import JobFilter, Storage  # noqa: E402

TARGET = 0.8
"""Unique enqueue at least 0.8x plain enqueue (issue 13)."""
Measure = tuple[str, float, float, str, float | None]
"""(measure, ours, baseline, unit, target ratio): a row of ``bench/run.py``."""
_fresh = itertools.count()


class PlainNoopJob(Job):
    """Does nothing: :class:`UniqueNoopJob` without ``@unique`` (a name as long, so
    the payloads are the same size)."""

    queue_as = QUEUE

    def perform(self, n: int) -> None:
        pass


@unique(until="finished")
class UniqueNoopJob(Job):
    """Does nothing; its key is a hash of its argument."""

    queue_as = QUEUE

    def perform(self, n: int) -> None:
        pass


def _empty(storage: Storage) -> None:
    storage.discard(JobFilter(queue_name=QUEUE))
    storage.prune(0)


def _round(n: int, base: int, storage: Storage) -> tuple[float, float, float]:
    """Rates (jobs/s) of plain, unique and duplicate enqueues, taken in turn one job
    at a time; the arguments ``base + i`` are new to the store, so unique ones win."""
    UniqueNoopJob(-1).enqueue()  # the holder every duplicate is refused by
    kinds = (
        [PlainNoopJob(base + i) for i in range(n)],
        [UniqueNoopJob(base + i) for i in range(n)],
        [UniqueNoopJob(-1) for _ in range(n)],
    )
    spent = [0.0, 0.0, 0.0]
    orders = itertools.cycle(itertools.permutations(range(3)))
    clock = time.perf_counter
    for i in range(n):
        for k in next(orders):
            job = kinds[k][i]
            started = clock()
            job.enqueue()
            spent[k] += clock() - started
    assert all(job.successfully_enqueued for job in kinds[1])
    assert not any(job.successfully_enqueued for job in kinds[2])
    _empty(storage)
    return n / spent[0], n / spent[1], n / spent[2]


def rows(name: str, url: str, n: int, repeat: int = 3) -> list[Measure]:
    """The rows for one backend at ``url`` (configured as the adapter meanwhile)."""
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    storage.migrate()
    _empty(storage)
    _round(min(n, 100), -(10**9), storage)  # warm up: connections, prepared statements
    found = [_round(n, next(_fresh) * n, storage) for _ in range(repeat)]
    medians = (statistics.median(kind) for kind in zip(*found, strict=True))
    ours_plain, ours_unique, ours_dup = medians
    return [
        (f"{name} unique enqueue vs plain (perform_later)", ours_unique, ours_plain, "jobs/s",
         TARGET),
        ("  every one a duplicate (refused) vs plain", ours_dup, ours_plain, "jobs/s", None),
    ]  # fmt: skip


# -- standalone ------------------------------------------------------------------------


@contextmanager
def _backend(name: str) -> Iterator[str]:
    """A scratch backend's URL for the block."""
    scratch = "activejob_bench_unique"
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{os.path.join(tmp, 'jobs.sqlite3')}"
    elif name == "postgresql":
        import psycopg

        server = os.environ.get("ACTIVEJOB_TEST_POSTGRESQL_URL", "postgresql://127.0.0.1/test")
        drop = f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(drop)
            admin.execute(f'CREATE DATABASE "{scratch}"')
        try:
            parts = urlsplit(server)
            yield urlunsplit((parts.scheme, parts.netloc, f"/{scratch}", parts.query, ""))
        finally:
            reset_adapters(wait=True)
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(drop)
    elif name == "mysql":
        import MySQLdb

        server = os.environ.get("ACTIVEJOB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
        parts = urlsplit(server)

        def admin(sql: str) -> None:
            conn = MySQLdb.connect(
                host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                user=parts.username or "root", password=parts.password or "", autocommit=True,
            )  # fmt: skip
            try:
                conn.cursor().execute(sql)
            finally:
                conn.close()

        admin(f"DROP DATABASE IF EXISTS `{scratch}`")
        admin(f"CREATE DATABASE `{scratch}`")
        try:
            yield urlunsplit((parts.scheme, parts.netloc, f"/{scratch}", "", ""))
        finally:
            reset_adapters(wait=True)
            admin(f"DROP DATABASE IF EXISTS `{scratch}`")
    else:
        import redis

        server = os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        prefix = f"ajbench-unique-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        try:
            yield f"{server}{'&' if '?' in server else '?'}prefix={prefix}"
        finally:
            reset_adapters(wait=True)
            client = redis.Redis.from_url(server)
            for key in client.scan_iter(f"{prefix}:*", count=1000):
                client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql,mysql,redis")
    parser.add_argument("--n", type=int, default=2000, help="jobs of each kind per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (medians are quoted)")
    args = parser.parse_args()
    print(f"{'measure':<52}{'ours jobs/s':>12}{'plain':>12}{'ratio':>8}  target")
    for name in args.backends.split(","):
        with _backend(name) as url:
            for measure, ours, base, _, target in rows(name, url, args.n, args.rounds):
                ratio = ours / base
                verdict = "" if target is None else (
                    f">= {target:g}x {'met' if ratio >= target else 'MISSED'}"
                )  # fmt: skip
                print(f"{measure:<52}{ours:>12,.0f}{base:>12,.0f}{ratio:>7.2f}x  {verdict}")
        reset_adapters(wait=True)


if __name__ == "__main__":
    main()

"""Where a MariaDB/MySQL enqueue's time goes, step by step from the raw loop of
``bench/run.py`` to ``perform_later`` (and from the raw multi-row ``INSERT`` to
``perform_all_later``).

Each step adds one thing to the one before it, so the difference between two
neighbouring rows is what that thing costs:

- single enqueue: the raw ``INSERT`` into a two-column table with one secondary
  index (``bench/run.py``'s baseline); the same loop inside one transaction (what
  the per-row commit costs); our ``insert_job`` statement, sent with mysqlclient
  alone, into a copy of our table without its secondary indexes, then into our
  table (what our columns and our five indexes cost the server);
  ``storage.push([job])`` (the pool and the storage layer); ``perform_later``
  (the job layer: serialize, callbacks, events);
- bulk enqueue: the raw multi-row ``INSERT`` (two columns); a multi-row ``INSERT``
  of our eight columns into our table; our ``insert_jobs`` statement
  (``INSERT ... SELECT FROM JSON_TABLE``) with its JSON parameter built in
  advance; ``storage.push(jobs)``; ``perform_all_later``.

For every step: operations per second (wall clock), the CPU this process spent
per job (Python and mysqlclient), the CPU the server process spent per job (from
``/proc``), and the rest (waiting on the log flush, on the other side of the
socket, on the machine's other work). Rounds are interleaved and each figure is
the best of ``--rounds`` (the machine's noise only ever slows a run down).

    .venv/bin/python bench/mysql_split.py                      # mysql://root@127.0.0.1:3306/test
    .venv/bin/python bench/mysql_split.py --single 1000 --bulk 5000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

import raw  # noqa: E402
from bench_jobs import NoopJob  # noqa: E402
from cpu_split import cpu_seconds, pids_named  # noqa: E402
from storage_loops import _empty, _rows  # noqa: E402

import activejob  # noqa: E402
from activejob import _time  # noqa: E402
from activejob.adapters.cache import reset_adapters  # noqa: E402
from activejob.adapters.durable import storage_of  # noqa: E402
from activejob.storage.sql.mysql import MySQLStorage  # noqa: E402
from activejob.storage.sql.mysql.storage import _insert_params  # noqa: E402

NAME = f"activejob_split_{os.getpid()}"
BARE = "bench_bare_jobs"
"""A copy of ``activejob_jobs`` with the primary key only (the stored column stays)."""


@dataclass
class Step:
    """One row of the table: a measured step and the best of its rounds."""

    label: str
    run: Callable[[], tuple[int, float, float, float]]
    """Runs once; returns (jobs, wall seconds, client CPU seconds, server CPU seconds)."""
    best: tuple[float, float, float] | None = None
    rates: list[float] = field(default_factory=list)

    def measure(self) -> None:
        jobs, wall, client, server = self.run()
        self.rates.append(jobs / wall)
        per_job = (wall / jobs, client / jobs, server / jobs)
        if self.best is None or per_job[0] < self.best[0]:
            self.best = per_job


def timed(servers: list[int], work: Callable[[], int]) -> tuple[int, float, float, float]:
    """Run ``work`` (which returns how many jobs it did) and time it three ways."""
    server_before = sum(cpu_seconds(p) for p in servers)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    jobs = work()
    wall, cpu = time.perf_counter() - wall_before, time.process_time() - cpu_before
    return jobs, wall, cpu, sum(cpu_seconds(p) for p in servers) - server_before


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("url", nargs="?", default="mysql://root@127.0.0.1:3306/test")
    parser.add_argument("--single", type=int, default=1000, help="jobs per single-enqueue round")
    parser.add_argument("--bulk", type=int, default=5000, help="jobs per bulk round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--server", default="mariadbd", help="the server's process name")
    args = parser.parse_args()
    parts = urlsplit(args.url)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{NAME}", "", ""))
    servers = pids_named(args.server) or pids_named("mysqld")
    admin = raw._my_connect(args.url)
    admin.cursor().execute(f"CREATE DATABASE `{NAME}`")
    try:
        activejob.configure(adapter=url)
        storage = storage_of(url)
        assert isinstance(storage, MySQLStorage)
        storage.migrate()
        print(
            f"load average {os.getloadavg()[0]:.2f} at start; server processes {servers}; "
            f"{args.single} single / {args.bulk} bulk jobs a round, best of {args.rounds}"
        )
        steps = _steps(url, storage, servers, args.single, args.bulk)
        for _ in range(args.rounds):
            for step in steps:
                step.measure()
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        _print(steps)
        _print_server_time(url, storage, args.rounds)
    finally:
        reset_adapters(wait=True)
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{NAME}`")
        admin.close()


def _steps(
    url: str, storage: MySQLStorage, servers: list[int], single: int, bulk: int
) -> list[Step]:
    conn = raw._my_connect(url)
    cursor = conn.cursor()
    cursor.execute(f"CREATE TABLE {BARE} LIKE activejob_jobs")
    cursor.execute(f"SHOW INDEX FROM {BARE} WHERE Key_name <> 'PRIMARY'")
    for key in sorted({row[2] for row in cursor.fetchall()}):
        cursor.execute(f"ALTER TABLE {BARE} DROP INDEX `{key}`")
    insert_job = storage.sql.queries["insert_job"]
    insert_jobs = storage.sql.queries["insert_jobs"]
    columns = "job_id, job_class, queue_name, priority, state, payload, run_at, created_at"

    def clear() -> None:
        cursor.execute(f"TRUNCATE TABLE {BARE}")
        cursor.execute("TRUNCATE TABLE bench_raw")
        _empty(storage)

    def raw_loop(transaction: bool) -> Callable[[], int]:
        def work() -> int:
            if transaction:
                conn.begin()
            for _ in range(single):
                cursor.execute(
                    "INSERT INTO bench_raw (queue, payload) VALUES (%s, %s)",
                    ("default", raw.PAYLOAD),
                )
            if transaction:
                conn.commit()
            return single

        return work

    def ours_raw(table: str) -> Callable[[], int]:
        statement = insert_job.replace("activejob_jobs", table)
        rows = [_insert_params(job, _time.now()) for job in _rows(single)]

        def work() -> int:
            for row in rows:
                cursor.execute(statement, row)
            return single

        return work

    def push_one() -> int:
        for job in _rows(single):
            storage.push([job])
        return single

    def perform_later() -> int:
        for job in [NoopJob(i) for i in range(single)]:
            job.enqueue()
        return single

    built: dict[str, object] = {}

    def build_bulk() -> None:
        clear()
        now = _time.now()
        jobs = _rows(bulk)
        plain: list[object] = []
        ours: list[object] = []
        for job in jobs:
            plain += ["default", raw.PAYLOAD]
            ours += [job.job_id, job.job_class, job.queue_name, job.priority, job.payload, now, now]
        built.update(plain=plain, ours=ours, json=storage._jobs_param(jobs), now=now)

    def multirow_raw() -> int:
        values = ",".join(["(%s, %s)"] * bulk)
        cursor.execute(f"INSERT INTO bench_raw (queue, payload) VALUES {values}", built["plain"])
        return bulk

    def multirow(table: str) -> Callable[[], int]:
        def work() -> int:
            values = ",".join(["(%s, %s, %s, %s, 'ready', %s, %s, %s)"] * bulk)
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", built["ours"])
            return bulk

        return work

    multirow_bare, multirow_ours = multirow(BARE), multirow("activejob_jobs")

    def json_table_ours() -> int:
        cursor.execute(insert_jobs, {"jobs": built["json"], "now": built["now"]})
        return bulk

    def push_bulk() -> int:
        storage.push(_rows(bulk))
        return bulk

    def perform_all_later() -> int:
        activejob.perform_all_later([NoopJob(i) for i in range(bulk)])
        return bulk

    raw._my_table(conn)

    def step(label: str, work: Callable[[], int], prepare: Callable[[], object] = clear) -> Step:
        def run() -> tuple[int, float, float, float]:
            prepare()
            return timed(servers, work)

        return Step(label, run)

    return [
        step("raw INSERT, 2 columns, 1 index (run.py's raw)", raw_loop(False)),
        step("  the same, one transaction (no commit per row)", raw_loop(True)),
        step("our insert_job, mysqlclient alone, primary key only", ours_raw(BARE)),
        step("our insert_job, mysqlclient alone, our 5 indexes", ours_raw("activejob_jobs")),
        step("storage.push([job])", push_one),
        step("perform_later", perform_later),
        step("raw multi-row INSERT, 2 columns (run.py's raw)", multirow_raw, build_bulk),
        step("multi-row INSERT VALUES, our 8 columns, primary key only", multirow_bare, build_bulk),
        step("multi-row INSERT VALUES, our 8 columns, our 5 indexes", multirow_ours, build_bulk),
        step("our insert_jobs (JSON_TABLE), parameter built before", json_table_ours, build_bulk),
        step("storage.push(jobs)", push_bulk),
        step("perform_all_later", perform_all_later),
    ]


OLD_INSERT_JOB = """
INSERT INTO activejob_jobs
    (job_id, job_class, queue_name, priority, state, payload, run_at, created_at)
VALUES (
    %(job_id)s, %(job_class)s, %(queue_name)s, %(priority)s,
    CASE WHEN coalesce(%(run_at)s, %(now)s) > %(now)s THEN 'scheduled' ELSE 'ready' END,
    %(payload)s, coalesce(%(run_at)s, %(now)s), %(now)s
)"""
"""``insert_job`` as it was before state and run_at were computed in Python."""


def _print_server_time(url: str, storage: MySQLStorage, rounds: int, n: int = 50) -> None:
    """The server's own time per single-row INSERT (``SHOW PROFILE``: from receiving the
    statement to its reply), split into its ``Commit`` stage (the redo log flush) and
    the rest (parsing, the row and its index entries), median of ``rounds * n``."""
    conn = raw._my_connect(url)
    cursor = conn.cursor()
    raw._my_table(conn)
    statements = {
        "raw INSERT, 2 columns, 1 index": (
            "INSERT INTO bench_raw (queue, payload) VALUES (%(queue)s, %(payload)s)",
            lambda job: {"queue": "default", "payload": raw.PAYLOAD},
        ),
        "our insert_job (state, run_at computed in Python)": (
            storage.sql.queries["insert_job"],
            lambda job: _insert_params(job, _time.now()),
        ),
        "our insert_job as it was (CASE/coalesce in SQL)": (
            OLD_INSERT_JOB,
            lambda job: {**_insert_params(job, _time.now()), "run_at": None},
        ),
    }
    found: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in statements}
    for _ in range(rounds):
        for label, (statement, params) in statements.items():
            cursor.execute("SET profiling = 1")
            cursor.execute("SET profiling_history_size = 100")
            for job in _rows(n):
                cursor.execute(statement, params(job))
            cursor.execute("SHOW PROFILES")
            ids = [row[0] for row in cursor.fetchall() if "INSERT" in row[2]][-n:]
            for query_id in ids:
                cursor.execute(f"SHOW PROFILE FOR QUERY {int(query_id)}")
                stages = [(stage, float(seconds) * 1e6) for stage, seconds in cursor.fetchall()]
                found[label][0].append(sum(us for stage, us in stages if stage == "Commit"))
                found[label][1].append(sum(us for stage, us in stages if stage != "Commit"))
            cursor.execute("SET profiling = 0")
        _empty(storage)
    cursor.execute("DROP TABLE bench_raw")
    conn.close()
    print("\n| server time per single-row INSERT (SHOW PROFILE, median) | commit µs | rest µs |")
    print("|---|---:|---:|")
    for label, (commit, rest) in found.items():
        print(f"| {label} | {statistics.median(commit):.0f} | {statistics.median(rest):.0f} |")


def _print(steps: list[Step]) -> None:
    print(
        "| step | jobs/s | µs/job | client CPU µs/job | server CPU µs/job | rest µs/job | "
        "runs (jobs/s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for s in steps:
        assert s.best is not None
        wall, client, server = (x * 1e6 for x in s.best)
        rest = max(0.0, wall - client - server)
        runs = ", ".join(f"{r:,.0f}" for r in s.rates)
        print(
            f"| {s.label} | {1e6 / wall:,.0f} | {wall:.1f} | {client:.1f} | {server:.1f} | "
            f"{rest:.1f} | {runs} |"
        )


if __name__ == "__main__":
    main()

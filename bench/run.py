"""Every benchmark in one run: ours next to the raw speed of the same server,
measured in the same run, as ratios.

    make bench                                  # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --quick       # smaller counts, a minute or two
    .venv/bin/python bench/run.py --backends sqlite,redis --markdown

For each backend (SQLite in a temporary file; PostgreSQL in a scratch database
``activejob_bench`` created and dropped on the server; Redis under a fresh key
prefix, deleted at the end):

- enqueue: ``perform_later`` one job at a time, vs a raw single-row INSERT /
  ``LPUSH`` loop; then ``storage.push`` alone, to show where the time goes;
- bulk enqueue: one ``perform_all_later`` of N jobs, vs one multi-row INSERT /
  pipelined ``LPUSH``;
- processing: the storage's claim-50/complete-50 loop on one thread, and the real
  ``activejob worker`` with 1 and 2 processes, vs a raw claim-and-delete loop
  (``SKIP LOCKED`` on PostgreSQL) / ``BRPOP`` loop taking one job per round trip;
- real job bodies (``--no-bodies`` skips them): a 1 ms sleep, one Redis ``GET`` and
  one PostgreSQL ``SELECT 1`` on the job thread's own connection, through the
  worker at ``WARNING`` and at the default ``INFO``; 1 ms sleeps with
  ``--threads 20`` against the ideal 20,000 jobs/s;
- latency: idle enqueue-to-start p50/p99 through the worker, next to a raw
  hand-off between two processes (INSERT + NOTIFY to a LISTENing claimer;
  ``LPUSH`` to a blocked ``BRPOP``); scheduled due-to-start p50;
- PostgreSQL only: the claim loop again beside ``--finished`` finished rows.

Also the core's own cost per job against a bare JSON round trip. Server
addresses come from ``ACTIVEJOB_TEST_POSTGRESQL_URL`` / ``ACTIVEJOB_TEST_REDIS_URL``
(the test suite's variables) or the flags.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

import core  # noqa: E402
import flow_rate  # noqa: E402
import flow_unique  # noqa: E402
import raw  # noqa: E402
import storage_loops  # noqa: E402
import workers  # noqa: E402
from bench_jobs import BODIES, PG_IO, REDIS_IO, NoopJob  # noqa: E402

import activejob  # noqa: E402
from activejob.adapters.cache import reset_adapters  # noqa: E402
from activejob.adapters.durable import storage_of  # noqa: E402
from activejob.storage.base import Storage  # noqa: E402
from activejob.storage.sql.sqlite.storage import SQLiteStorage  # noqa: E402

TARGETS: dict[str, dict[str, float | None]] = {
    # ratios to the raw loop of the same run, except latencies (milliseconds)
    "sqlite": {"enqueue": None, "bulk": None, "worker": 0.15, "scale": None, "idle": 5.0},
    "postgresql": {"enqueue": 0.8, "bulk": 0.5, "worker": 1.0, "scale": 1.6, "idle": 2.0},
    # No NOTIFY: an idle worker polls (50 ms after work, doubling to 1 s); no idle target.
    "mysql": {"enqueue": 0.8, "bulk": 0.5, "worker": 1.0, "scale": 1.6, "idle": None},
    "redis": {"enqueue": 0.8, "bulk": 0.5, "worker": 0.5, "scale": 1.6, "idle": 1.0, "due": 5.0},
}


LOG_COST_TARGET = 0.9
"""Per-job log lines at the default level cost at most 10% of worker throughput."""

WIDE_TARGET = 0.5
"""``--threads 20`` of 1 ms-sleep jobs reach at least half the ideal 20,000 jobs/s."""

COST = "µs/job"
"""The unit of the core's cost: smaller is better."""


@dataclass
class Row:
    """One line of the table: our figure, the raw one beside it, and the target."""

    measure: str
    ours: float
    raw: float | None
    unit: str
    target: float | None = None
    """A minimum ratio to ``raw`` for rates; a maximum ratio for costs; a maximum,
    in ``unit``, for latencies."""

    @property
    def ratio(self) -> float | None:
        return self.ours / self.raw if self.raw else None

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.unit == "ms":
            return self.ours <= self.target
        if self.unit == COST:
            return self.ratio is not None and self.ratio <= self.target
        return self.ratio is not None and self.ratio >= self.target

    def target_text(self) -> str:
        if self.target is None:
            return ""
        if self.unit == "ms":
            text = f"<= {self.target:g} ms"
        elif self.unit == COST:
            text = f"<= {self.target:g}x"
        else:
            text = f">= {self.target:g}x"
        return f"{text} {'met' if self.met else 'MISSED'}"


@dataclass
class Sizes:
    """How many jobs each measure uses."""

    single: int
    bulk: int
    process: int
    samples: int
    finished: int
    bodies: int = 0
    """Jobs per run of each real body (0: no such rows)."""


def best(fn: Callable[[], float], repeat: int = 2) -> float:
    """The best of ``repeat`` runs: the machine's noise only ever slows a run down."""
    return max(fn() for _ in range(repeat))


def paired(*fns: Callable[[], float], repeat: int = 3) -> list[float]:
    """The best of ``repeat`` rounds of each of ``fns``, run in turn within each round,
    so a drift in the machine's speed during the run affects them alike."""
    results: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, found in zip(fns, results, strict=True):
            found.append(fn())
    return [max(found) for found in results]


def enqueue_rate(n: int) -> float:
    jobs = [NoopJob(i) for i in range(n)]
    started = time.perf_counter()
    for j in jobs:
        j.enqueue()
    return n / (time.perf_counter() - started)


def bulk_rate(n: int) -> float:
    jobs = [NoopJob(i) for i in range(n)]
    started = time.perf_counter()
    activejob.perform_all_later(jobs)
    return n / (time.perf_counter() - started)


def backend_rows(
    name: str,
    url: str,
    sizes: Sizes,
    raw_rates: dict[str, Callable[[], float]],
    handoff: Callable[[], list[float]] | None,
) -> list[Row]:
    """The table's rows for one backend at ``url``."""
    target = TARGETS[name]
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    storage.migrate()
    empty = storage_loops._empty
    try:
        rows = []

        def enqueued() -> float:
            rate = enqueue_rate(sizes.single)
            empty(storage)
            return rate

        def bulk() -> float:
            rate = bulk_rate(sizes.bulk)
            empty(storage)
            return rate

        loops = [lambda: storage_loops.push_rate(storage, sizes.single)]
        if isinstance(storage, SQLiteStorage):  # what the schema alone costs an enqueue
            sqlite = storage
            loops.append(lambda: storage_loops.sqlite_insert_statement_rate(sqlite, sizes.single))
        raw_insert, ours, push, *statement = paired(raw_rates["insert"], enqueued, *loops)
        rows.append(Row(f"{name} enqueue (perform_later)", ours, raw_insert, "jobs/s",
                        target["enqueue"]))  # fmt: skip
        rows.append(Row("  storage.push alone", push, raw_insert, "jobs/s"))
        for rate in statement:
            rows.append(Row("    its INSERT statement alone (sqlite3, no Python of ours)",
                            rate, raw_insert, "jobs/s"))  # fmt: skip
        rows.extend(Row(*r) for r in flow_unique.rows(name, url, sizes.single))
        # It configured the adapter again, which closed the one ``storage`` came from.
        storage = storage_of(url)
        raw_bulk, ours = paired(raw_rates["bulk"], bulk)
        rows.append(Row(f"{name} bulk enqueue (perform_all_later)", ours, raw_bulk, "jobs/s",
                        target["bulk"]))  # fmt: skip
        raw_claim, loop = paired(
            raw_rates["claim"], lambda: storage_loops.claim_complete_rate(storage, sizes.process)
        )
        rows.append(Row("  storage claim/complete loop, 1 thread", loop, raw_claim, "jobs/s"))
        measured = workers.measure(url, storage, sizes.process, sizes.samples)
        rows.append(Row(f"{name} worker, 1 process, no-op jobs", measured["worker_1"],
                        raw_claim, "jobs/s", target["worker"]))  # fmt: skip
        rows.append(Row("  1 process, default log level (INFO) vs WARNING",
                        measured["worker_1_info"], measured["worker_1"], "jobs/s",
                        LOG_COST_TARGET))  # fmt: skip
        if sizes.bodies:
            rows += body_rows(workers.bodies(url, storage, sizes.bodies), measured["worker_1"])
        rows.append(Row(f"{name} worker, 2 processes vs 1", measured["worker_2"],
                        measured["worker_1"], "jobs/s", target["scale"]))  # fmt: skip
        busy, cores = measured["busy_1"], os.cpu_count()
        if busy and cores:
            # At the same CPU per job, a second process has only the cores one leaves idle.
            ceiling = f"same CPU/job: 2 vs 1 <= {cores / busy:.2f}x"
            rows.append(Row(f"  cores busy, 1 process ({ceiling})", busy, cores, "cores"))
        delays = handoff() if handoff else None
        raw_p50 = statistics.median(delays) * 1000 if delays else None
        raw_p99 = workers.percentile(delays, 99) * 1000 if delays else None
        rows.append(Row(f"{name} idle enqueue-to-start p50", measured["idle_p50"] * 1000,
                        raw_p50, "ms", target["idle"]))  # fmt: skip
        rows.append(Row(f"{name} idle enqueue-to-start p99", measured["idle_p99"] * 1000,
                        raw_p99, "ms"))  # fmt: skip
        rows.append(Row(f"{name} scheduled due-to-start p50", measured["due_p50"] * 1000,
                        raw_p50, "ms", target.get("due")))  # fmt: skip
        rows += __import__("flow_concurrency").rows(name, url, storage, sizes.samples)
        return rows
    finally:
        reset_adapters(wait=True)


def body_rows(found: dict[str, float], noop: float) -> list[Row]:
    """Rows for real job bodies (``workers.bodies``): each at WARNING beside no-op
    jobs (1 ms sleeps beside the ideal of 5 threads, 5,000 jobs/s), at INFO beside
    WARNING; 20 threads of 1 ms sleeps beside the ideal 20,000 jobs/s."""
    rows = []
    for body in BODIES:
        off, info = found[f"{body} WARNING"], found[f"{body} INFO"]
        if body == "1 ms sleep":
            rows.append(Row(f"  {body} jobs, 5 threads, vs ideal 5,000/s", off, 5000, "jobs/s"))
        else:
            rows.append(Row(f"  {body} jobs vs no-op jobs", off, noop, "jobs/s"))
        rows.append(Row(f"    {body} jobs, INFO vs WARNING", info, off, "jobs/s",
                        LOG_COST_TARGET))  # fmt: skip
    ideal = 1000 * workers.WIDE_THREADS
    wide = found["wide WARNING"]
    rows.append(Row(f"  1 ms sleep, --threads {workers.WIDE_THREADS}, vs ideal {ideal:,}/s",
                    wide, ideal, "jobs/s", WIDE_TARGET))  # fmt: skip
    rows.append(Row("    the same, INFO vs WARNING", found["wide INFO"], wide, "jobs/s",
                    LOG_COST_TARGET))  # fmt: skip
    return rows


def sqlite_rows(sizes: Sizes) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        raw_path = os.path.join(tmp, "raw.sqlite3")
        rates = {
            "insert": lambda: raw.sqlite_insert_loop(raw_path, sizes.single),
            "bulk": lambda: raw.sqlite_multirow_insert(raw_path, sizes.bulk),
            "claim": lambda: raw.sqlite_claim_delete_loop(raw_path, sizes.process),
        }
        url = f"sqlite:///{os.path.join(tmp, 'jobs.sqlite3')}"
        return backend_rows("sqlite", url, sizes, rates, None)


def postgresql_rows(server: str, sizes: Sizes) -> list[Row]:
    import psycopg
    from psycopg import sql

    name = "activejob_bench"
    parts = urlsplit(server)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def recreate(drop_only: bool = False) -> None:
        with psycopg.connect(server, autocommit=True) as admin:
            ident = sql.Identifier(name)
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            if not drop_only:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))

    recreate()
    try:
        rates = {
            "insert": lambda: raw.pg_insert_loop(url, sizes.single),
            "bulk": lambda: raw.pg_multirow_insert(url, sizes.bulk),
            "claim": lambda: raw.pg_claim_delete_loop(url, sizes.process),
        }
        rows = backend_rows(
            "postgresql", url, sizes, rates, lambda: raw.pg_handoff_latency(url, sizes.samples)
        )
        if sizes.finished:
            rows.append(_beside_finished(url, sizes, rates["claim"]))
        return rows
    finally:
        recreate(drop_only=True)


def mysql_rows(server: str, sizes: Sizes) -> list[Row]:
    import MySQLdb

    name = "activejob_bench"
    parts = urlsplit(server)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))

    def recreate(drop_only: bool = False) -> None:
        admin = MySQLdb.connect(
            host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
            user=parts.username or "root", password=parts.password or "", autocommit=True,
        )  # fmt: skip
        try:
            admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
            if not drop_only:
                admin.cursor().execute(f"CREATE DATABASE `{name}`")
        finally:
            admin.close()

    recreate()
    try:
        rates = {
            "insert": lambda: raw.my_insert_loop(url, sizes.single),
            "bulk": lambda: raw.my_multirow_insert(url, sizes.bulk),
            "claim": lambda: raw.my_claim_delete_loop(url, sizes.process),
        }
        return backend_rows("mysql", url, sizes, rates, None)
    finally:
        recreate(drop_only=True)


def _beside_finished(url: str, sizes: Sizes, raw_claim: Callable[[], float]) -> Row:
    """The claim loop with ``sizes.finished`` finished rows in the table."""
    import psycopg

    from activejob.storage.sql.postgresql import PostgreSQLStorage

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state,"
            " payload, run_at, created_at, finished_at) SELECT g::text, 'bench.Done',"
            " 'done', 0, 'succeeded', %s, now(), now(), now()"
            " FROM generate_series(1, %s) AS g",
            (raw.PAYLOAD, sizes.finished),
        )
        conn.execute("VACUUM ANALYZE activejob_jobs")
        conn.execute("CHECKPOINT")  # measure claims, not the flush of the rows just written
    storage = PostgreSQLStorage.from_url(url)
    try:
        ours = best(lambda: storage_loops.claim_complete_rate(storage, sizes.process, empty=False))
    finally:
        storage.close()
    return Row(
        f"  claim loop beside {sizes.finished:,} finished jobs",
        ours,
        best(raw_claim),
        "jobs/s",
        TARGETS["postgresql"]["worker"],
    )


def redis_rows(server: str, sizes: Sizes) -> list[Row]:
    import redis

    prefix = f"ajbench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    url = f"{server}{'&' if '?' in server else '?'}prefix={prefix}"
    key = f"{prefix}:raw"
    rates = {
        "insert": lambda: raw.redis_lpush_loop(server, key, sizes.single),
        "bulk": lambda: raw.redis_pipelined_lpush(server, key, sizes.bulk),
        "claim": lambda: raw.redis_brpop_loop(server, key, sizes.process),
    }
    try:
        rows = backend_rows(
            "redis", url, sizes, rates,
            lambda: raw.redis_handoff_latency(server, key, sizes.samples),
        )  # fmt: skip
        after = next(i for i, r in enumerate(rows) if r.measure == "  storage.push alone") + 1
        rows.insert(after, redis_time_row(server, url, key, sizes.single))
        return rows
    finally:
        with redis.Redis.from_url(server) as client:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            for i in range(0, len(keys), 500):
                client.delete(*keys[i : i + 500])


def redis_time_row(server: str, url: str, key: str, n: int) -> Row:
    """Redis's own time per single enqueue (the push script) next to one ``LPUSH``,
    from the server's command statistics: the part of each round trip that no
    client-side work can win back."""
    import redis

    from activejob.storage.redis import RedisStorage

    storage = RedisStorage(url)
    rows = storage_loops._rows(n)

    def server_usec(client: Any, command: str, run: Callable[[], object]) -> float:
        def stats() -> tuple[int, int]:
            found = client.info("commandstats").get(f"cmdstat_{command}", {})
            return found.get("calls", 0), found.get("usec", 0)

        calls, usec = stats()
        run()
        calls_after, usec_after = stats()
        return (usec_after - usec) / max(1, calls_after - calls)

    try:
        with redis.Redis.from_url(server) as client:
            ours = server_usec(client, "evalsha", lambda: [storage.push([r]) for r in rows])
            theirs = server_usec(
                client, "lpush", lambda: [client.lpush(key, raw.PAYLOAD) for _ in rows]
            )
            client.delete(key)
        storage_loops._empty(storage)
    finally:
        storage.close()
    return Row("  Redis time per enqueue (script vs LPUSH)", ours, theirs, "µs")


def core_rows(n: int) -> list[Row]:
    [measured] = core.measure(n)
    return [Row(measured["measure"], measured["ours"], measured["raw"], COST, 5.0)]


def print_table(rows: list[Row], markdown: bool) -> None:
    header = ("measure", "ours", "raw", "unit", "ratio", "target")
    lines = []
    for r in rows:
        digits = 2 if r.unit in ("ms", "cores") else 1 if r.unit in (COST, "µs") else 0
        lines.append(
            (
                r.measure,
                f"{r.ours:,.{digits}f}",
                "" if r.raw is None else f"{r.raw:,.{digits}f}",
                r.unit,
                "" if r.ratio is None else f"{r.ratio:.2f}",
                r.target_text(),
            )
        )
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

    def fmt(cells: tuple[str, ...]) -> str:
        padded = [c.ljust(w) if i in (0, 3, 5) else c.rjust(w)
                  for i, (c, w) in enumerate(zip(cells, widths, strict=True))]  # fmt: skip
        return "| " + " | ".join(padded) + " |" if markdown else "  ".join(padded)

    print(fmt(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|" if markdown else "")
    for line in lines:
        print(fmt(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql,mysql,redis")
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("ACTIVEJOB_TEST_POSTGRESQL_URL", "postgresql://127.0.0.1:5432/test"),
        help="a PostgreSQL server (the benchmark creates its own database there)",
    )
    parser.add_argument(
        "--mysql",
        default=os.environ.get("ACTIVEJOB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
        help="a MariaDB/MySQL server (the benchmark creates its own database there)",
    )
    parser.add_argument(
        "--redis", default=os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--finished", type=int, default=None, help="finished rows (postgresql)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--no-bodies", action="store_true", help="no rows for real job bodies")
    args = parser.parse_args()
    sizes = (
        Sizes(single=500, bulk=5000, process=5000, samples=50, finished=100_000)
        if args.quick
        else Sizes(single=2000, bulk=20000, process=20000, samples=200, finished=1_000_000)
    )
    if args.finished is not None:
        sizes.finished = args.finished
    sizes.bodies = 0 if args.no_bodies else sizes.process // 4
    os.environ[REDIS_IO] = args.redis  # the I/O jobs' servers, for the workers
    os.environ[PG_IO] = args.postgresql
    print(
        f"activejob {activejob.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}; "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    rows = core_rows(5000 if args.quick else 20000)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "redis" in backends:
        import redis.utils

        parser_name = "hiredis" if redis.utils.HIREDIS_AVAILABLE else "pure Python"
        print(f"redis-py {redis.__version__} with the {parser_name} parser")
    for backend in backends:
        if backend == "sqlite":
            rows += sqlite_rows(sizes)
        elif backend == "postgresql":
            rows += postgresql_rows(args.postgresql, sizes)
        elif backend == "mysql":
            rows += mysql_rows(args.mysql, sizes)
        elif backend == "redis":
            rows += redis_rows(args.redis, sizes)
        else:
            parser.error(f"unknown backend {backend!r}")
    rows += [Row(*r) for r in flow_rate.rows(backends, vars(args), sizes.single)]  # flow: rate
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()

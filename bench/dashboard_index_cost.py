"""What the dashboard's indexes cost the job path: enqueue and claim+complete rates
on PostgreSQL with and without them, in alternating rounds on one database.

The indexes (migration ``dashboard_indexes``) make every page of the dashboard
answer in bounded time at a million jobs (``bench/dashboard_scale.py``); each row a
job writes or changes also updates them. This measures that price on a table that
already holds ``--background`` finished jobs (default 200,000), as a store in
production does, so index pages do not all sit in one cache line.

    .venv/bin/python bench/dashboard_index_cost.py            # 3 rounds each way
    .venv/bin/python bench/dashboard_index_cost.py --rounds 5 --jobs 5000
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from storage_loops import claim_complete_rate, push_rate

from activejob.storage.sql.postgresql import PostgreSQLStorage

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "activejob_dash_cost"
INDEXES = ("activejob_jobs_state_queue", "activejob_jobs_state_id", "activejob_jobs_pending_run_at")


def migration_script() -> str:
    """The migration that makes the dashboard's indexes, as the store applies it."""
    storage = PostgreSQLStorage(f"{SERVER}/{DATABASE}")
    [script] = [m.script for m in storage.sql.migrations if m.name.endswith("dashboard_indexes")]
    return script


def prepare(background: int) -> str:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    url = f"{SERVER}/{DATABASE}"
    storage = PostgreSQLStorage(url)
    storage.migrate()
    storage.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO activejob_jobs (job_id, job_class, queue_name, state, payload, run_at,"
            " created_at, finished_at) SELECT md5(i::text), 'app.Old', 'q' || i %% 5,"
            " 'succeeded', '{}', now(), now(), now() FROM generate_series(1, %s) AS i",
            [background],
        )
        conn.execute("VACUUM (ANALYZE) activejob_jobs")
    return url


def set_indexes(url: str, present: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if present:
            conn.execute(migration_script())
        else:
            for name in INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute("ANALYZE activejob_jobs")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=3000, help="jobs per measurement")
    parser.add_argument("--background", type=int, default=200_000)
    args = parser.parse_args(argv)
    url = prepare(args.background)
    rates: dict[tuple[bool, str], list[float]] = {}
    for _ in range(args.rounds):
        for present in (True, False):
            set_indexes(url, present)
            storage = PostgreSQLStorage(url)
            rates.setdefault((present, "push"), []).append(push_rate(storage, args.jobs))
            rates.setdefault((present, "claim"), []).append(claim_complete_rate(storage, args.jobs))
            storage.close()
    print(f"{args.rounds} rounds of {args.jobs:,} jobs, {args.background:,} finished jobs beside")
    print(f"{'jobs/s (median)':<28}{'with':>10}{'without':>10}{'ratio':>8}")
    for kind, label in (("push", "enqueue, one per call"), ("claim", "claim 50 + complete 50")):
        with_, without = (statistics.median(rates[(p, kind)]) for p in (True, False))
        print(f"{label:<28}{with_:>10.0f}{without:>10.0f}{with_ / without:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

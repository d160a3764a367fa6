"""The PostgreSQL soak, watched from inside the server: why claims slow down.

    .venv/bin/python bench/soak_pg_watch.py --jobs 300000 --url-option vacuum_dead_rows=0
    .venv/bin/python bench/soak_pg_watch.py --jobs 300000

Runs ``bench/soak.py`` on its private PostgreSQL (with ``pg_stat_statements``
loaded) and every ``--every`` seconds prints, from a connection of its own: the
jobs table's live and dead row versions and its autovacuum and vacuum counts
(``pg_stat_user_tables``), the heap's and the claim index's sizes, and the claim
statement's mean time and shared buffers per call over the interval
(``pg_stat_statements``, reset each time). A claim whose buffers per call grow
with the jobs done walks dead entries at the start of the claim index.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

import chaos  # noqa: E402
import soak  # noqa: E402

TABLE = """SELECT n_live_tup, n_dead_tup, autovacuum_count, vacuum_count,
    pg_relation_size('activejob_jobs'), pg_relation_size('activejob_jobs_claim_queue')
FROM pg_stat_user_tables WHERE relname = 'activejob_jobs'"""
CLAIMS = """SELECT calls, total_exec_time, shared_blks_hit + shared_blks_read
FROM pg_stat_statements WHERE query LIKE 'WITH picked AS%' AND calls > 0"""


def _start_with_statements(start: Any) -> Any:
    def started(self: chaos.PrivatePostgres) -> None:
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write("shared_preload_libraries = 'pg_stat_statements'\n")
        start(self)

    return started


def watch(servers: list[chaos.Server], every: float, done: threading.Event) -> None:
    import psycopg

    while not servers and not done.wait(0.2):
        pass
    began, conn = time.monotonic(), None
    while not done.wait(every):
        try:
            if conn is None:
                conn = psycopg.connect(servers[0].url.split("?")[0], autocommit=True)
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            table = conn.execute(TABLE).fetchone()
            claims = conn.execute(CLAIMS).fetchall()
            conn.execute("SELECT pg_stat_statements_reset()")
        except Exception as exc:  # the table is not there yet, or the run ended
            print(f"    watch: {str(exc).splitlines()[0]}", flush=True)
            conn = None
            continue
        if table is None:
            continue
        live, dead, autovacuums, vacuums, heap, index = table
        calls = sum(c[0] for c in claims)
        line = (
            f"{time.monotonic() - began:5.0f}s live {live:>8} dead {dead:>8} "
            f"autovacuums {autovacuums} vacuums {vacuums} heap {heap >> 20} MiB "
            f"claim index {index >> 20} MiB"
        )
        if calls:
            ms = sum(c[1] for c in claims) / calls
            buffers = sum(c[2] for c in claims) / calls
            line += f" | claims {calls}: {ms:.2f} ms, {buffers:.0f} buffers each"
        print(line, flush=True)


def main() -> int:
    servers: list[chaos.Server] = []
    made = chaos.server_for

    def keep(backend: str, home: Path) -> chaos.Server:
        servers.append(made(backend, home))
        return servers[-1]

    chaos.server_for = keep  # type: ignore[assignment]
    chaos.PrivatePostgres.start = _start_with_statements(  # type: ignore[method-assign]
        chaos.PrivatePostgres.start
    )
    argv = sys.argv[1:]
    every = 4.0
    if "--every" in argv:
        at = argv.index("--every")
        every = float(argv[at + 1])
        del argv[at : at + 2]
    done = threading.Event()
    watcher = threading.Thread(target=watch, args=(servers, every, done), daemon=True)
    watcher.start()
    try:
        return soak.main([*argv, "--backends", "postgresql"])
    finally:
        done.set()


if __name__ == "__main__":
    raise SystemExit(main())

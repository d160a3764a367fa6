"""The MariaDB/MySQL drivers side by side, on what a job queue does most: a one-row
autocommit ``INSERT`` (an enqueue) and a ``SKIP LOCKED`` claim of one row (``BEGIN``,
``SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED``, ``UPDATE``, ``COMMIT``).

For each driver that is installed (mysqlclient always, as the ``mysql`` extra does;
``pip install PyMySQL mariadb`` to compare the others): operations per second and
the CPU this process spent per operation, which is what a driver controls (the rest
is the server and its log flush). Rounds are interleaved; each figure is the best
of ``--rounds``. Runs in a scratch database it creates and drops.

    .venv/bin/python bench/mysql_drivers.py                   # mysql://root@127.0.0.1:3306
    .venv/bin/python bench/mysql_drivers.py --rows 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import raw

NAME = f"activejob_drivers_{os.getpid()}"
DRIVERS = {
    # module: (distribution, label, placeholder)
    "MySQLdb": ("mysqlclient", "mysqlclient", "%s"),
    "pymysql": ("PyMySQL", "PyMySQL", "%s"),
    "mariadb": ("mariadb", "mariadb (Connector/Python)", "?"),
}


def connect(module: Any, url: str) -> Any:
    parts = urlsplit(url)
    args = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": NAME,
        "autocommit": True,
    }
    if module.__name__ != "mariadb":
        args["charset"] = "utf8mb4"
    return module.connect(**args)


def insert_loop(conn: Any, mark: str, n: int) -> int:
    cursor = conn.cursor()
    for _ in range(n):
        cursor.execute(
            f"INSERT INTO bench_raw (queue, payload) VALUES ({mark}, {mark})",
            ("default", raw.PAYLOAD),
        )
    return n


def claim_loop(conn: Any, mark: str, n: int) -> int:
    cursor = conn.cursor()
    pick = (
        f"SELECT id, payload FROM bench_raw WHERE queue = {mark} AND payload IS NOT NULL "
        "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    for _ in range(n):
        conn.begin()
        cursor.execute(pick, ("default",))
        row = cursor.fetchone()
        assert row is not None, "the claim loop ran out of rows"
        cursor.execute(f"UPDATE bench_raw SET payload = NULL WHERE id = {mark}", (row[0],))
        conn.commit()
    return n


def timed(work: Callable[[], int]) -> tuple[float, float]:
    """(operations per second, client CPU µs per operation)."""
    cpu, wall = time.process_time(), time.perf_counter()
    n = work()
    return n / (time.perf_counter() - wall), (time.process_time() - cpu) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("url", nargs="?", default="mysql://root@127.0.0.1:3306/test")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    admin = raw._my_connect(args.url)
    admin.cursor().execute(f"CREATE DATABASE `{NAME}`")
    try:
        drivers = {}
        for module_name, (distribution, label, mark) in DRIVERS.items():
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                print(f"{label}: not installed, skipped")
                continue
            version = metadata.version(distribution)  # PyMySQL's __version__ imitates mysqlclient's
            drivers[f"{label} {version}"] = (connect(module, args.url), mark)
        print(
            f"load average {os.getloadavg()[0]:.2f} at start; {args.rows} rows a round, "
            f"best of {args.rounds}"
        )
        best: dict[str, list[tuple[float, float]]] = {name: [] for name in drivers}
        for _ in range(args.rounds):
            for name, (conn, mark) in drivers.items():
                raw._my_table(conn)
                inserted = timed(lambda c=conn, m=mark: insert_loop(c, m, args.rows))
                claimed = timed(lambda c=conn, m=mark: claim_loop(c, m, args.rows))
                best[name].append((*inserted, *claimed))
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        print("| driver | one-row INSERT | client CPU | SKIP LOCKED claim | client CPU |")
        print("|---|---:|---:|---:|---:|")
        for name, runs in best.items():
            insert_rate = max(r[0] for r in runs)
            insert_cpu = min(r[1] for r in runs)
            claim_rate = max(r[2] for r in runs)
            claim_cpu = min(r[3] for r in runs)
            print(
                f"| {name} | {insert_rate:,.0f}/s | {insert_cpu:.0f} µs | "
                f"{claim_rate:,.0f}/s | {claim_cpu:.0f} µs |"
            )
        for conn, _ in drivers.values():
            conn.close()
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{NAME}`")
        admin.close()


if __name__ == "__main__":
    main()

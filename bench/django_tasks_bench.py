"""django.tasks: the same no-op ``@task`` through ActiveJobBackend and our worker, and
through django-tasks-db's DatabaseBackend and its ``db_worker``, on the same PostgreSQL.

    .venv/bin/pip install -r bench/requirements-peers.txt    # django-tasks-db
    .venv/bin/python bench/django_tasks_bench.py             # --rounds 5 --tasks 1000

A fresh database (``aj_bench_djtasks``) is made and migrated by ``manage.py migrate``
(both apps' tables). Each round, in one process: ``--tasks`` enqueues of the task
one at a time through each backend (``task.enqueue()``, autocommit, timed; the two
take turns of 50, so a moment of load on the shared machine falls on both), then
each worker drains what its backend holds, started as an operator starts it
(``django-admin activejob worker --burst``, ``django-admin db_worker --batch``), both
at log level WARNING. A worker's throughput is the tasks over the span from its first
start to its last finish, read from each store's own timestamps (process start-up is
not counted, for either; the wall time including it is printed too). The order of
ours and the peer alternates every round; each row is the median of the rounds, its
ratio the median of the per-round ratios, with their spread. Targets: worker
throughput >= 2x, enqueue >= 1x. The file is not called ``django_tasks.py``: with
``bench/`` on ``sys.path`` it would shadow the ``django_tasks`` package.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

SERVER = os.environ.get(
    "ACTIVEJOB_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
DATABASE = "aj_bench_djtasks"
OURS_WORKER = ["activejob", "worker", "--burst", "--log-level", "WARNING"]
PEER_WORKER = ["db_worker", "--batch", "--interval", "0", "--no-startup-delay", "--no-reload",
               "--backend", "db", "-v", "0"]  # fmt: skip


@dataclass
class Row:
    measure: str
    ours: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    target: float | None = None
    unit: str = "tasks/s"

    @property
    def ratios(self) -> list[float]:
        return [o / p for o, p in zip(self.ours, self.peer, strict=True) if p]

    def cells(self) -> list[str]:
        ratios = self.ratios
        ratio = median(ratios) if ratios else 0.0
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else ""
        target = ""
        if self.target is not None:
            target = f">= {self.target:g}x {'met' if ratio >= self.target else 'MISSED'}"
        return [self.measure, f"{median(self.ours):,.0f}", f"{median(self.peer):,.0f}",
                f"{ratio:.2f}x", spread, target]  # fmt: skip


def environment() -> dict[str, str]:
    parts = urlsplit(SERVER)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT / "src")]),
        "DJANGO_SETTINGS_MODULE": "djtasks_bench_app.settings",
        "AJ_BENCH_PG_NAME": DATABASE,
        "AJ_BENCH_PG_HOST": parts.hostname or "127.0.0.1",
        "AJ_BENCH_PG_PORT": str(parts.port or 5432),
        "AJ_BENCH_PG_USER": parts.username or "postgres",
    }


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    django_admin("migrate", "--no-input", "-v", "0")


def django_admin(*args: str) -> float:
    """Run ``django-admin ARGS`` as an operator would; returns its wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "django", *args], env=environment(),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"django-admin {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started


def enqueue_rate(task: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        task.enqueue()
    return n / (time.perf_counter() - started)


CHUNK = 50
"""Enqueues per turn: within a round the two sides take turns of this many, so a
moment of load on the shared machine falls on both."""


def enqueue_rates(first: Any, second: Any, n: int) -> tuple[float, float]:
    """Tasks/s of ``n`` enqueues through each task, taking turns of :data:`CHUNK`."""
    spent = [0.0, 0.0]
    for done in range(0, n, CHUNK):
        size = min(CHUNK, n - done)
        for side, task in enumerate((first, second)):
            started = time.perf_counter()
            for _ in range(size):
                task.enqueue()
            spent[side] += time.perf_counter() - started
    return n / spent[0], n / spent[1]


def span(sql: str) -> tuple[int, float]:
    """(finished tasks, seconds from the first start to the last finish) from ``sql``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        count, first, last = cursor.fetchone()
    return int(count), (last - first).total_seconds()


OURS_SPAN = (
    "SELECT count(*), min(started_at), max(finished_at) FROM activejob_jobs "
    "WHERE state = 'succeeded'"
)
PEER_SPAN = (
    "SELECT count(*), min(started_at), max(finished_at) FROM django_tasks_database_dbtaskresult "
    "WHERE status = 'SUCCESSFUL'"
)


def drain(worker: list[str], sql: str, n: int) -> tuple[float, float]:
    """Run a worker until its store is empty; (tasks/s over the stored span, wall s)."""
    wall = django_admin(*worker)
    count, seconds = span(sql)
    if count != n:
        raise RuntimeError(f"{' '.join(worker)} finished {count} of {n} tasks")
    return n / seconds, wall


def clear() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM activejob_jobs")
        cursor.execute("DELETE FROM django_tasks_database_dbtaskresult")


def measure(rounds: int, n: int) -> tuple[list[Row], list[float], list[float]]:
    from djtasks_bench_app.tasks import noop

    ours_task, peer_task = noop, noop.using(backend="db")
    enqueue = Row("enqueue, one task at a time", target=1.0)
    worker = Row("worker throughput (no-op task)", target=2.0)
    walls: tuple[list[float], list[float]] = ([], [])
    # Warm both up (connections opened, statements prepared, schema checked), untimed.
    enqueue_rate(ours_task, 20)
    enqueue_rate(peer_task, 20)
    clear()
    for index in range(rounds):
        if index % 2 == 0:
            ours, peer = enqueue_rates(ours_task, peer_task, n)
        else:
            peer, ours = enqueue_rates(peer_task, ours_task, n)
        enqueue.ours.append(ours)
        enqueue.peer.append(peer)
        for side in ("ours", "peer") if index % 2 == 0 else ("peer", "ours"):
            if side == "ours":
                rate, wall = drain(OURS_WORKER, OURS_SPAN, n)
                worker.ours.append(rate)
                walls[0].append(wall)
            else:
                rate, wall = drain(PEER_WORKER, PEER_SPAN, n)
                worker.peer.append(rate)
                walls[1].append(wall)
        clear()
        print(f"  round {index + 1}/{rounds} done", file=sys.stderr)
    return [enqueue, worker], walls[0], walls[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=1000, help="tasks per round and side")
    options = parser.parse_args()
    os.environ.update(environment())
    fresh_database()
    import django

    django.setup()
    from importlib.metadata import version

    measured, ours_walls, peer_walls = measure(options.rounds, options.tasks)
    header = ["measure", "ActiveJobBackend", "django-tasks-db", "ratio", "spread", "target"]
    table = [header, *(row.cells() for row in measured)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print(f"\ndjango.tasks on PostgreSQL ({SERVER.rsplit('@', 1)[-1]}), {options.tasks} tasks a "
          f"round, {options.rounds} rounds, medians (tasks/s)")  # fmt: skip
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    print(f"\nours: django-admin {' '.join(OURS_WORKER)} (activejob {version('activejob')}; "
          "defaults: 1 process, 5 threads, batched claims and results)")  # fmt: skip
    print(
        f"peer: django-admin {' '.join(PEER_WORKER)} "
        f"(django-tasks-db {version('django-tasks-db')}; one task at a time)"
    )
    print(f"worker wall time incl. start-up, median s: ours {median(ours_walls):.2f}, "
          f"peer {median(peer_walls):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()

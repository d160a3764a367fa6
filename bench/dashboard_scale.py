"""Every dashboard page against a PostgreSQL store of 1,000,000 jobs: p95 latency.

Fills a database of its own (``activejob_dash_bench`` on the local server, made if
missing; ``--url`` for another) with one bulk ``INSERT ... SELECT`` in the states a
busy production store has (mostly succeeded, finished over the last day; failed
with a few error classes; a ready backlog; scheduled jobs; 1% blocked on 200
concurrency keys whose slots running jobs hold; a few running), then
requests each page through the ASGI app, authenticated, with Starlette's test
client, and prints p50/p95/max per page. Target: p95 < 200 ms on every page.

    .venv/bin/python bench/dashboard_scale.py                 # fill once, then measure
    .venv/bin/python bench/dashboard_scale.py --jobs 100000 --rounds 5   # quicker
    .venv/bin/python bench/dashboard_scale.py --explain       # the plans of the queries

The fill is kept between runs (``--refill`` redoes it).
"""

from __future__ import annotations

import argparse
import base64
import re
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import psycopg

from activejob.dashboard import create_app
from activejob.storage.sql.postgresql import PostgreSQLStorage

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "activejob_dash_bench"
QUEUES = ("default", "mailers", "billing", "reports", "low")
CLASSES = ("app.SendEmail", "app.ChargeCard", "app.BuildReport", "app.Resize", "app.Sync")
ERRORS = ("app.Timeout", "app.CardDeclined", "builtins.ValueError", "app.Rare")
USER, PASSWORD = "bench", "bench-password"

# Shares of the table, by state (the rest of the rows are succeeded).
FAILED, DISCARDED, READY, SCHEDULED, RUNNING = 0.04, 0.01, 0.03, 0.02, 0.00005
BLOCKED = 0.01
"""Blocked on one of KEYS concurrency keys (limit 1, each slot held by a running job)."""
KEYS = 200

SLOTS = """
INSERT INTO activejob_concurrency_slots (concurrency_key, job_ref, expires_at)
SELECT 'app.ChargeCard/account-' || k,
       (SELECT id FROM activejob_jobs WHERE state = 'running' ORDER BY id
        OFFSET k %% 40 LIMIT 1),
       now() + interval '1 day'
FROM generate_series(0, %(keys)s - 1) AS k
"""

FILL = """
INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state, payload, run_at,
                            created_at, started_at, finished_at, attempts, worker_id,
                            heartbeat_at, error_class, error_message, error_traceback,
                            blocked_by, concurrency)
SELECT job_id, job_class, queue_name, priority, state,
       json_build_object('job_id', job_id, 'job_class', job_class, 'queue_name', queue_name,
                         'arguments', json_build_array(i, 'user-' || i || '@example.com'),
                         'kwargs', json_build_object('attempt', i %% 3))::text,
       CASE state WHEN 'scheduled' THEN now() + (i %% 86400) * interval '1 second'
                  WHEN 'ready' THEN created ELSE created END,
       created,
       CASE WHEN state IN ('ready', 'scheduled') THEN NULL ELSE created + interval '1 second' END,
       CASE WHEN state IN ('succeeded', 'failed', 'discarded')
            THEN created + interval '2 seconds' END,
       CASE WHEN state IN ('ready', 'scheduled') THEN 0 ELSE 1 + i %% 3 END,
       CASE WHEN state = 'running' THEN 'bench-worker-' || i %% 4 END,
       CASE WHEN state = 'running' THEN now() END,
       CASE WHEN state = 'failed' THEN (%(errors)s::text[])[1 + (i / 7) %% 4] END,
       CASE WHEN state = 'failed' THEN 'failed on item ' || i END,
       CASE WHEN state = 'failed' THEN 'Traceback (most recent call last):' || repeat(
            E'\\n  File "app/jobs.py", line 42, in perform', 8) END,
       CASE WHEN state = 'blocked' THEN 'app.ChargeCard/account-' || (i / 100) %% %(keys)s END,
       CASE WHEN state = 'blocked' THEN json_build_array(json_build_object(
            'key', 'app.ChargeCard/account-' || (i / 100) %% %(keys)s, 'limit', 1,
            'duration', 900.0, 'on_conflict', 'block'))::text END
FROM (
    SELECT i, md5(i::text)::uuid::text AS job_id,
           (%(classes)s::text[])[1 + i %% 5] AS job_class,
           (%(queues)s::text[])[1 + (i / 3) %% 5] AS queue_name,
           i %% 3 AS priority,
           -- ids follow creation time: the newest jobs are the ready backlog,
           -- scheduled and running ones; older ones finished over the last day.
           CASE WHEN i > %(n)s * (1 - %(running)s) THEN 'running'
                WHEN i > %(n)s * (1 - %(running)s - %(ready)s) THEN 'ready'
                WHEN i %% 50 = 0 AND i > %(n)s * 0.5 THEN 'scheduled'
                WHEN i %% 25 = 1 THEN 'failed'
                WHEN i %% 100 = 2 THEN 'discarded'
                WHEN i %% 100 = 3 THEN 'blocked'
                ELSE 'succeeded' END AS state,
           now() - (%(n)s - i) * (interval '1 day' / %(n)s) AS created
    FROM generate_series(1, %(n)s) AS i
) AS rows
"""


def database_url(url: str | None) -> str:
    """The bench database, made if missing."""
    if url:
        return url
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"{SERVER}/{DATABASE}"


def fill(url: str, jobs: int, refill: bool) -> None:
    """Migrate and fill the store with ``jobs`` rows (kept when already there)."""
    storage = PostgreSQLStorage(url)
    storage.migrate()
    storage.close()
    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM activejob_jobs").fetchone()
        if have and have[0] == jobs and not refill:
            print(f"kept the {jobs:,} jobs already in {url}")
            return
        conn.execute("TRUNCATE activejob_jobs, activejob_workers, activejob_concurrency_slots")
        started = time.perf_counter()
        params = {
            "n": jobs,
            "queues": list(QUEUES),
            "classes": list(CLASSES),
            "errors": list(ERRORS),
            "running": RUNNING,
            "ready": READY,
            "keys": KEYS,
        }
        conn.execute(FILL, params)
        conn.execute(SLOTS, {"keys": KEYS})
        for worker in range(4):
            conn.execute(
                "INSERT INTO activejob_workers (id, info, started_at, heartbeat_at) "
                "VALUES (%s, %s, now(), now())",
                [f"bench-worker-{worker}", '{"hostname": "bench", "pid": 1}'],
            )
        conn.execute("VACUUM (ANALYZE) activejob_jobs")
        print(f"filled {jobs:,} jobs in {time.perf_counter() - started:.1f}s")


def pages(client: Any) -> dict[str, str]:
    """The pages to time, by label: every page, with the filters and cursors."""
    failed = client.get("/failed").text
    job = re.search(r'href="/jobs/([0-9a-f-]{36})"', failed)
    older = re.search(r'href="/failed\?([^"]*before=[^"]*)" rel="next"', failed)
    assert job and older, "the failed page lists jobs and links to older ones"
    return {
        "overview": "/",
        "jobs (any state)": "/jobs",
        "jobs ready": "/jobs?state=ready",
        "jobs scheduled": "/jobs?state=scheduled",
        "jobs running": "/jobs?state=running",
        "jobs succeeded": "/jobs?state=succeeded",
        "jobs succeeded, queue": "/jobs?state=succeeded&queue=reports",
        "failed": "/failed",
        "failed, older page": "/failed?" + older.group(1).replace("&amp;", "&"),
        "failed, error class": "/failed?error=app.Rare",
        "failed, class + queue": "/failed?class=app.Resize&queue=billing",
        "jobs, text in arguments": "/jobs?state=succeeded&text=user-4242%40",
        "jobs, time range": "/jobs?state=succeeded&since=2h&until=1h",
        "scheduled": "/scheduled",
        "blocked (keys + jobs)": "/blocked",
        "job": f"/jobs/{job.group(1)}",
        "queues": "/queues",
        "workers": "/workers",
        "recurring": "/recurring",
    }


def measure(url: str, rounds: int) -> list[tuple[str, float, float, float]]:
    from starlette.testclient import TestClient

    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    app = create_app(url, auth=(USER, PASSWORD))
    rows = []
    with TestClient(app, headers={"Authorization": f"Basic {token}"}) as client:
        for label, path in pages(client).items():
            client.get(path)  # warm: connections, templates, plans
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            rows.append((label, statistics.median(times), p95, times[-1]))
    return rows


EXPLAINED = {
    "counts of one state (failed)": (
        "state_queue_counts",
        {"state": "failed", "cap": 10_000, "skip": 9_999},
    ),
    "counts of one state (succeeded)": (
        "state_queue_counts",
        {"state": "succeeded", "cap": 10_000, "skip": 9_999},
    ),
    "ready/scheduled split of a queue": (
        "queue_pending_details",
        {"queue_name": "default", "cap": 10_000, "skip": 9_999},
    ),
    "a page of failed jobs": ("browse_jobs", {"state": "failed", "with_due": False}),
    "a page of ready jobs": ("browse_jobs", {"state": "ready", "with_due": True}),
    "failed jobs of one error class": (
        "browse_jobs",
        {"state": "failed", "with_due": False, "error_class": "app.Rare", "scan": 10_000},
    ),
    "finished per minute, last hour": ("finished_per_minute", {}),
    "the next key blocked jobs wait for": (
        "next_blocked_key",
        {"after": "app.ChargeCard/account-1"},
    ),
    "a key's waiting count, limit and slots": (
        "blocked_key_details",
        {"key": "app.ChargeCard/account-7", "cap": 10_000, "skip": 9_999},
    ),
    "a key's slot holders": ("key_holders", {"key": "app.ChargeCard/account-7", "limit": 10}),
}


def explain(url: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each query the pages run."""
    storage = PostgreSQLStorage(url)
    now = time.time()
    base = {
        "now": now,
        "since": now - 3600,
        "queue_name": None,
        "job_class": None,
        "error_class": None,
        "created_after": None,
        "created_before": None,
        "text": None,
        "before": None,
        "scan": 51,
        "limit": 51,
    }
    with psycopg.connect(url, autocommit=True) as conn:
        for label, (name, params) in EXPLAINED.items():
            sql = storage.sql.queries[name]
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, {**base, **params})
            print(f"\n-- {label} ({name})")
            print("\n".join(row[0] for row in plan.fetchall()))
    storage.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help=f"a PostgreSQL URL (default: {SERVER}/{DATABASE})")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20, help="requests per page")
    parser.add_argument("--refill", action="store_true", help="fill again even if full")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    args = parser.parse_args(argv)
    url = database_url(args.url)
    fill(url, args.jobs, args.refill)
    if args.explain:
        explain(url)
        return 0
    rows = measure(url, args.rounds)
    print(f"\n{args.jobs:,} jobs, {args.rounds} requests a page (ms)")
    print(f"{'page':<28} {'p50':>8} {'p95':>8} {'max':>8}")
    for label, p50, p95, worst in rows:
        flag = "" if p95 < 200 else "  over 200 ms"
        print(f"{label:<28} {p50:8.1f} {p95:8.1f} {worst:8.1f}{flag}")
    slowest = max(rows, key=lambda row: row[2])
    print(f"\nslowest p95: {slowest[0]} {slowest[2]:.1f} ms (target < 200 ms)")
    return 0 if slowest[2] < 200 else 1


if __name__ == "__main__":
    sys.exit(main())

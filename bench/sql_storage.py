"""The SQL storages against the raw driver loops of ``bench/raw.py``, in the same run.

Measured at the storage level (what the worker and the adapters call):

* single enqueue: ``storage.push([job])`` in a loop vs a raw single-row INSERT loop;
* bulk enqueue: one ``storage.push(jobs)`` vs one raw multi-row INSERT;
* processing: ``claim`` a batch of 50, ``complete`` it as one batch, until empty,
  vs a raw one-row claim-and-delete loop (optionally beside N finished rows);
* enqueue-to-start: an idle worker in another process blocked in ``wait``; the
  time from ``push`` to its ``claim`` returning the job (p50).

Run: ``python bench/sql_storage.py [--postgresql URL] [--finished 1000000]``.
The PostgreSQL URL should name a scratch database: the benchmark empties the
activejob tables in it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import raw

from activejob.storage.base import JobState, NewJob, Result, Storage

PAYLOAD = raw.PAYLOAD
TARGETS = {
    "postgresql": {"enqueue": 0.8, "bulk": 0.5, "process": 1.0, "latency_ms": 2.0},
    "sqlite": {"enqueue": None, "bulk": None, "process": 0.15, "latency_ms": 5.0},
}


def job(i: int, queue: str = "default") -> NewJob:
    return NewJob(f"bench-{i}", "bench.jobs.NoopJob", queue, 0, PAYLOAD)


def enqueue_rate(storage: Storage, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        storage.push([job(i)])
    return n / (time.perf_counter() - started)


def bulk_rate(storage: Storage, n: int) -> float:
    jobs = [job(i) for i in range(n)]
    started = time.perf_counter()
    storage.push(jobs)
    return n / (time.perf_counter() - started)


def process_rate(storage: Storage, n: int, batch: int = 50) -> float:
    storage.push([job(i) for i in range(n)])
    done = 0
    started = time.perf_counter()
    while claimed := storage.claim("bench", ["default"], batch):
        for claimed_job in claimed:
            json.loads(claimed_job.payload)
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
        done += len(claimed)
    assert done == n, (done, n)
    return n / (time.perf_counter() - started)


WORKER = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from activejob.adapters import adapter_from_url
from activejob.storage.base import JobState, Result
storage = adapter_from_url(sys.argv[1]).storage
storage.wait(["latency"], 0.01)
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    while not (jobs := storage.claim("latency", ["latency"], 1)):
        storage.wait(["latency"], 5)
    now = time.time()
    storage.complete([Result(j.id, JobState.SUCCEEDED) for j in jobs])
    print(json.loads(jobs[0].payload)["sent"], now, flush=True)
"""


def enqueue_to_start_ms(url: str, storage: Storage, n: int) -> float:
    src = str(Path(__file__).resolve().parents[1] / "src")
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(n), src],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    latencies = []
    for i in range(n):
        time.sleep(0.01)  # sleep-ok: let the worker go idle before each job
        sent = time.time()
        storage.push([NewJob(f"lat-{i}", "bench.Lat", "latency", 0, json.dumps({"sent": sent}))])
        started_at = float(proc.stdout.readline().split()[1])
        latencies.append((started_at - sent) * 1000)
    proc.wait(10)
    return statistics.median(latencies)


def row(measure: str, ours: float, base: float, unit: str, target: float | None) -> dict[str, Any]:
    return {
        "measure": measure,
        "ours": ours,
        "raw": base,
        "unit": unit,
        "ratio": ours / base if base else float("nan"),
        "target": "-" if target is None else f">= {target}x",
    }


def measure_sqlite(n: int) -> list[dict[str, Any]]:
    from activejob.storage.sql.sqlite import SQLiteStorage

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        raw_path = os.path.join(tmp, "raw.sqlite3")
        targets = TARGETS["sqlite"]

        def fresh(name: str) -> SQLiteStorage:
            return SQLiteStorage(os.path.join(tmp, f"{name}.sqlite3"))

        storage = fresh("enqueue")
        rows.append(
            row(
                "sqlite enqueue",
                enqueue_rate(storage, n),
                raw.sqlite_insert_loop(raw_path, n),
                "jobs/s",
                targets["enqueue"],
            )
        )
        storage.close()
        storage = fresh("bulk")
        rows.append(
            row(
                "sqlite bulk enqueue",
                bulk_rate(storage, n),
                raw.sqlite_multirow_insert(raw_path, n),
                "jobs/s",
                targets["bulk"],
            )
        )
        storage.close()
        storage = fresh("process")
        rows.append(
            row(
                "sqlite processing",
                process_rate(storage, n),
                raw.sqlite_claim_delete_loop(raw_path, n),
                "jobs/s",
                targets["process"],
            )
        )
        storage.close()
        url = f"sqlite:///{os.path.join(tmp, 'latency.sqlite3')}"
        storage = SQLiteStorage.from_url(url)
        latency = enqueue_to_start_ms(url, storage, 50)
        rows.append(
            {
                "measure": "sqlite enqueue-to-start p50 (other process)",
                "ours": latency,
                "raw": None,
                "unit": "ms",
                "ratio": None,
                "target": f"<= {targets['latency_ms']} ms",
            }
        )
        storage.close()
    return rows


def measure_postgresql(url: str, n: int, finished: int) -> list[dict[str, Any]]:
    import psycopg

    from activejob.storage.sql.postgresql import PostgreSQLStorage

    targets = TARGETS["postgresql"]
    storage = PostgreSQLStorage.from_url(url)
    storage.migrate()

    def empty() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE activejob_jobs, activejob_workers, activejob_paused_queues")

    rows = []
    empty()
    rows.append(
        row(
            "postgresql enqueue",
            enqueue_rate(storage, n),
            raw.pg_insert_loop(url, n),
            "jobs/s",
            targets["enqueue"],
        )
    )
    empty()
    rows.append(
        row(
            "postgresql bulk enqueue",
            bulk_rate(storage, n),
            raw.pg_multirow_insert(url, n),
            "jobs/s",
            targets["bulk"],
        )
    )
    empty()
    rows.append(
        row(
            "postgresql processing",
            process_rate(storage, n),
            raw.pg_claim_delete_loop(url, n),
            "jobs/s",
            targets["process"],
        )
    )
    if finished:
        empty()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO activejob_jobs (job_id, job_class, queue_name, priority, state,"
                " payload, run_at, created_at, finished_at) SELECT g::text, 'bench.Done',"
                " 'default', 0, 'succeeded', %s, now(), now(), now()"
                " FROM generate_series(1, %s) AS g",
                (PAYLOAD, finished),
            )
            conn.execute("VACUUM ANALYZE activejob_jobs")
            conn.execute("CHECKPOINT")  # measure claims, not the flush of the rows just written
        rows.append(
            row(
                f"postgresql processing beside {finished:,} finished jobs",
                process_rate(storage, n),
                raw.pg_claim_delete_loop(url, n),
                "jobs/s",
                targets["process"],
            )
        )
    empty()
    latency = enqueue_to_start_ms(url, storage, 50)
    rows.append(
        {
            "measure": "postgresql enqueue-to-start p50 (other process)",
            "ours": latency,
            "raw": None,
            "unit": "ms",
            "ratio": None,
            "target": f"<= {targets['latency_ms']} ms",
        }
    )
    storage.close()
    empty()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", metavar="URL", help="a scratch database")
    parser.add_argument("-n", type=int, default=5000, help="jobs per measure")
    parser.add_argument("--finished", type=int, default=0, help="finished rows beside (pg)")
    args = parser.parse_args()
    rows = measure_sqlite(args.n)
    if args.postgresql:
        rows += measure_postgresql(args.postgresql, args.n, args.finished)
    for r in rows:
        if r["raw"] is None:
            print(f"{r['measure']}: {r['ours']:.2f} {r['unit']} (target {r['target']})")
        else:
            print(
                f"{r['measure']}: {r['ours']:,.0f} vs raw {r['raw']:,.0f} {r['unit']}"
                f" = {r['ratio']:.2f}x (target {r['target']})"
            )


if __name__ == "__main__":
    main()

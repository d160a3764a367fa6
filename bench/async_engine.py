"""Which engine should run ``async:`` jobs? The numbers behind docs/performance.md.

``async:`` (adapters/asyncpool.py) has its own thread pool and event loop. The
alternative is the worker's executor (worker/executor.py) fed by a storage. This
measures, for the same no-op jobs, on the same threads (4):

- ``async: adapter``: ``perform_later`` N jobs, then ``join()``: enqueue to done.
- ``executor alone``: ``perform_later`` N jobs into an adapter that hands each
  straight to the worker's executor as a claimed row (JSON round trip included),
  where it runs and becomes a stored ``Result``; no storage at all: the least
  "async: on the worker's executor" could cost, before the in-memory storage it
  needs (push, claim, complete, their invariants and events).
- ``worker + sqlite``: the nearest complete form of that path that exists, a
  ``Worker`` in this process on a SQLite file in a temporary directory,
  ``perform_later`` N jobs then ``run(burst=True)``.

Each row is the best of ``--repeat`` runs, in jobs per second and microseconds per
job, for sync ``def perform`` and ``async def perform`` jobs. Run:
``.venv/bin/python bench/async_engine.py [--jobs 5000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

from bench_jobs import AsyncNoopJob, NoopJob  # noqa: E402

import activejob  # noqa: E402
from activejob import Job  # noqa: E402
from activejob.adapters.asyncpool import AsyncAdapter  # noqa: E402
from activejob.adapters.base import Adapter  # noqa: E402
from activejob.adapters.sqlite import SQLiteAdapter  # noqa: E402
from activejob.storage.base import ClaimedJob, Result  # noqa: E402
from activejob.worker.executor import Executor, Task  # noqa: E402

THREADS = 4


def async_adapter(job_class: type[Job], n: int) -> float:
    pool = AsyncAdapter(threads=THREADS)
    activejob.configure(adapter=pool)
    started = time.perf_counter()
    for i in range(n):
        job_class.perform_later(i)
    pool.join(timeout=300)
    elapsed = time.perf_counter() - started
    pool.shutdown()
    return elapsed


class _Handover(Adapter):
    """Hands each job straight to an executor as a claimed row: ``async:`` on the
    worker's executor with the storage left out."""

    nonblocking = True

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.rows = itertools.count()

    def enqueue(self, job: Job) -> None:
        payload = json.dumps(job.serialize())  # what a storage would hold and hand back
        claimed = ClaimedJob(next(self.rows), job.job_id, job.queue_name, payload, 1)
        loaded = Job.deserialize(json.loads(payload))
        self.executor.submit(Task(claimed, loaded))  # type: ignore[arg-type]


def executor_alone(job_class: type[Job], n: int) -> float:
    done = threading.Semaphore(0)
    results: list[Result] = []

    def finished(task: Task, result: Result) -> None:
        results.append(result)
        done.release()

    executor = Executor(threads=THREADS, async_concurrency=50, done=finished)
    executor.start()
    activejob.configure(adapter=_Handover(executor))
    started = time.perf_counter()
    for i in range(n):
        job_class.perform_later(i)
    for _ in range(n):
        done.acquire(timeout=300)
    elapsed = time.perf_counter() - started
    executor.close()
    assert len(results) == n
    return elapsed


def worker_sqlite(job_class: type[Job], n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        adapter = SQLiteAdapter.from_url(f"sqlite:///{tmp}/jobs.sqlite3")
        activejob.configure(adapter=adapter)
        started = time.perf_counter()
        for i in range(n):
            job_class.perform_later(i)
        worker = activejob.Worker(adapter, queues="*", threads=THREADS)
        worker.run(burst=True)
        elapsed = time.perf_counter() - started
        assert worker.tally.succeeded == n, worker.tally
        adapter.shutdown()
        return elapsed


ENGINES: dict[str, Callable[[type[Job], int], float]] = {
    "async: adapter": async_adapter,
    "executor alone": executor_alone,
    "worker + sqlite": worker_sqlite,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    print(f"{options.jobs} no-op jobs, {THREADS} threads, best of {options.repeat}\n")
    print("| engine | perform | jobs/s | µs/job |\n|---|---|---:|---:|")
    for name, engine in ENGINES.items():
        for job_class in (NoopJob, AsyncNoopJob):
            best = min(engine(job_class, options.jobs) for _ in range(options.repeat))
            kind = "async def" if job_class is AsyncNoopJob else "def"
            rate, cost = options.jobs / best, best / options.jobs * 1e6
            print(f"| {name} | {kind} | {rate:,.0f} | {cost:,.1f} |", flush=True)


if __name__ == "__main__":
    main()

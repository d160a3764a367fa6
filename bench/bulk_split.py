"""Where a bulk enqueue's time goes on PostgreSQL and Redis, beside the raw bulk path
of ``bench/run.py`` (one multi-row ``INSERT``; one pipeline of ``LPUSH``).

The steps, each on the same number of jobs:

- ``raw``: the raw bulk path, its statement or pipeline built beforehand;
- ``job layer``: ``perform_all_later`` with the storage's ``push`` replaced by one
  that returns ids and stores nothing: validating, serialising the arguments, the
  payload of each job and the ``enqueue_all`` event;
- ``storage.push``: the storage alone, on payloads made beforehand;
- ``perform_all_later``: the whole call, as users make it.

For each: jobs per second, wall time a job, this process's CPU a job, and the
server's own time a job (Redis: ``INFO commandstats`` of the script calls;
PostgreSQL: the CPU of its processes, from ``/proc``). A target of 0.5x the raw
path leaves the budget printed under the table: when the job layer's CPU alone, or
the server's time alone, is over it, no cut on the other side reaches the target.
Rounds are interleaved; each figure is the best of ``--rounds``. The raw steps'
wall time is their own (their connection and table made outside it); their CPU
column includes making them.

    .venv/bin/python bench/bulk_split.py
    .venv/bin/python bench/bulk_split.py --servers redis --jobs 5000 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpu_split
import raw
import storage_loops
from bench_jobs import NoopJob

import activejob
from activejob.adapters.cache import reset_adapters
from activejob.adapters.durable import storage_of
from activejob.storage.base import NewJob, Storage

POSTGRESQL = os.environ.get("ACTIVEJOB_TEST_POSTGRESQL_URL", "postgresql://127.0.0.1:5432/test")
REDIS = os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE = "activejob_bulk_split"


@dataclass
class Step:
    """One step: ``prepare(n)`` makes its input, untimed; ``run(input)`` is timed and
    returns the server's time in µs (``None``: not measured) and, for the raw path,
    its own elapsed seconds (its connection and table made outside them);
    ``after()`` empties the store, untimed."""

    name: str
    prepare: Callable[[int], Any]
    run: Callable[[Any], tuple[float | None, float | None]]
    after: Callable[[], None]
    n: int
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)

    def measure(self) -> None:
        given = self.prepare(self.n)
        cpu, wall = time.process_time(), time.perf_counter()
        server, seconds = self.run(given)
        elapsed = time.perf_counter() - wall
        self.cpu.append((time.process_time() - cpu) / self.n * 1e6)
        self.wall.append((elapsed if seconds is None else seconds) / self.n * 1e6)
        if server is not None:
            self.server.append(server / self.n)
        self.after()


def _stubbed_push(jobs: Sequence[NewJob], connection: Any = None) -> list[int]:
    """``storage.push`` that stores nothing: an id for each job."""
    return list(range(1, len(jobs) + 1))


def _steps(storage: Storage, raw_step: Step, server_usec: Callable[[Callable[[], object]], float],
           n: int) -> list[Step]:  # fmt: skip
    real_push = storage.push

    def jobs(count: int) -> list[NoopJob]:
        return [NoopJob(i) for i in range(count)]

    def job_layer(given: list[NoopJob]) -> tuple[float | None, float | None]:
        storage.push = _stubbed_push  # type: ignore[method-assign]
        try:
            activejob.perform_all_later(given)
        finally:
            storage.push = real_push  # type: ignore[method-assign]
        return None, None

    def push(given: list[NewJob]) -> tuple[float | None, float | None]:
        return server_usec(lambda: storage.push(given)), None

    def whole(given: list[NoopJob]) -> tuple[float | None, float | None]:
        return server_usec(lambda: activejob.perform_all_later(given)), None

    def empty() -> None:
        storage_loops._empty(storage)

    return [
        raw_step,
        Step("job layer (push stubbed)", jobs, job_layer, lambda: None, n),
        Step("storage.push", storage_loops._rows, push, empty, n),
        Step("perform_all_later", jobs, whole, empty, n),
    ]


def _print(server: str, steps: list[Step]) -> None:
    print(f"\n| {server} bulk, a job | jobs/s | wall µs | this process CPU µs | server µs |")
    print("|---|---:|---:|---:|---:|")
    for step in steps:
        wall, cpu = min(step.wall), min(step.cpu)
        spent = f"{min(step.server):.1f}" if step.server else "-"
        print(f"| {step.name} | {1e6 / wall:,.0f} | {wall:.1f} | {cpu:.1f} | {spent} |")
    raw_wall = min(steps[0].wall)
    layer, server_time = min(steps[1].cpu), min(steps[2].server)
    print(
        f"\n0.5x the raw path is {2 * raw_wall:.1f} µs a job: the job layer's CPU "
        f"({layer:.1f}) and the storage's server time ({server_time:.1f}) together "
        f"take {layer + server_time:.1f}, before the storage's own CPU and the wait."
    )


def redis_steps(url: str, n: int) -> tuple[list[Step], Callable[[], None]]:
    import redis

    prefix = f"ajbulk-{uuid.uuid4().hex[:6]}"
    adapter_url = f"{url}{'&' if '?' in url else '?'}prefix={prefix}"
    activejob.configure(adapter=adapter_url)
    storage = storage_of(adapter_url)
    client = redis.Redis.from_url(url)
    key = f"{prefix}:raw"

    def usec(command: str, call: Callable[[], object]) -> float:
        def stats() -> int:
            return int(client.info("commandstats").get(f"cmdstat_{command}", {}).get("usec", 0))

        before = stats()
        call()
        return float(stats() - before)

    def raw_run(count: int) -> tuple[float | None, float | None]:
        seconds = 0.0

        def pipelined() -> None:
            nonlocal seconds
            seconds = count / raw.redis_pipelined_lpush(url, key, count)

        return usec("lpush", pipelined), seconds

    def cleanup() -> None:
        storage_loops._empty(storage)
        names = list(client.scan_iter(f"{prefix}*", count=1000))
        if names:
            client.delete(*names)
        client.close()

    raw_step = Step("raw: one pipeline of LPUSH", lambda count: count, raw_run, lambda: None, n)
    return _steps(storage, raw_step, lambda call: usec("evalsha", call), n), cleanup


def postgresql_steps(url: str, n: int) -> tuple[list[Step], Callable[[], None]]:
    import psycopg

    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin.execute(f"CREATE DATABASE {DATABASE}")
    base, _, _ = url.rpartition("/")
    bench_url = f"{base}/{DATABASE}"
    activejob.configure(adapter=bench_url)
    storage = storage_of(bench_url)
    storage.migrate()

    def server_cpu(call: Callable[[], object]) -> float:
        pids = cpu_split.pids_named("postgres")
        before = sum(cpu_split.cpu_seconds(p) for p in pids)
        call()
        return (sum(cpu_split.cpu_seconds(p) for p in pids) - before) * 1e6

    def raw_run(count: int) -> tuple[float | None, float | None]:
        # Its own connection, whose server process is not known beforehand: no
        # server time for this step.
        return None, count / raw.pg_multirow_insert(bench_url, count)

    def cleanup() -> None:
        reset_adapters(wait=True)
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.close()

    raw_step = Step("raw: one multi-row INSERT", lambda count: count, raw_run, lambda: None, n)
    return _steps(storage, raw_step, server_cpu, n), cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--servers", default="postgresql,redis")
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgresql", default=POSTGRESQL)
    parser.add_argument("--redis", default=REDIS)
    args = parser.parse_args()
    print(
        f"load average {os.getloadavg()[0]:.2f} at start; {args.jobs} jobs a bulk call, "
        f"best of {args.rounds} interleaved rounds"
    )
    for server in args.servers.split(","):
        make = {"postgresql": postgresql_steps, "redis": redis_steps}[server]
        steps, cleanup = make(getattr(args, server), args.jobs)
        try:
            for _ in range(args.rounds):
                for step in steps:
                    step.measure()
        finally:
            cleanup()
            reset_adapters(wait=True)
        _print(server, steps)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()

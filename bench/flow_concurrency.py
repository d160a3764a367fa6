"""Concurrency limits (``limits_concurrency``), per backend, in the same run:

- claims with a limit: the storage's claim-50/complete-50 loop on jobs limited to
  one at a time per key over 100 keys (each completion hands its slot to the next
  blocked job of the key), vs the same loop on unlimited jobs (target >= 0.5x);
- blocked-job start latency: a real ``activejob worker`` runs the holder of a key's
  only slot; a second job of that key waits blocked; from the holder's last line
  (just before it returns) to the blocked job's ``perform`` starting, p50 (targets
  <= 5 ms on PostgreSQL and Redis, <= 10 ms on SQLite; none on MySQL, which polls),
  beside the same idle worker's plain enqueue-to-start of an unlimited job; on
  PostgreSQL once more after a ``VACUUM`` of the jobs table (no target: the claim
  loops' dead row versions are what the first figure pays for).

    .venv/bin/python bench/flow_concurrency.py --backends sqlite,postgresql --quick

``rows(name, url, storage, samples)`` gives the rows to ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

from flow_concurrency_jobs import QUEUE, PlainJob, SlotJob  # noqa: E402
from run import Row  # noqa: E402
from workers import until  # noqa: E402

import activejob  # noqa: E402
from activejob.storage.base import JobFilter, JobState, NewJob, Result, Storage  # noqa: E402
from activejob.storage.concurrency import ConcurrencySlot  # noqa: E402

KEYS = 100
LATENCY_TARGET = {"sqlite": 10.0, "postgresql": 5.0, "redis": 5.0, "mysql": None}
CLAIM_TARGET = 0.5


def _jobs(n: int, limited: bool) -> list[NewJob]:
    payload = json.dumps({"job_class": "bench.Noop", "arguments": []})
    jobs = []
    for i in range(n):
        job = NewJob(f"flow-{i}", "bench.Noop", QUEUE, 0, payload)
        if limited:
            slot = ConcurrencySlot(f"bench/{i % KEYS}", 1, 300.0)
            job = dataclasses.replace(job, concurrency=(slot,))
        jobs.append(job)
    return jobs


def _empty(storage: Storage) -> None:
    storage.discard(JobFilter(queue_name=QUEUE))
    storage.prune(0)


def claim_rate(storage: Storage, n: int, limited: bool, batch: int = 50) -> float:
    """Jobs per second through claim/complete, a batch per round trip."""
    for start in range(0, n, 1000):
        storage.push(_jobs(n, limited)[start : start + 1000])
    done = 0
    started = time.perf_counter()
    while claimed := storage.claim("bench-flow", [QUEUE], batch):
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
        done += len(claimed)
    rate = n / (time.perf_counter() - started)
    if done != n:
        raise RuntimeError(f"claimed {done} of {n} jobs ({'limited' if limited else 'plain'})")
    _empty(storage)
    return rate


class Worker:
    """One ``activejob worker`` process running this benchmark's job."""

    def __init__(self, url: str) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="activejob-bench-flow-", suffix=".log")  # noqa: SIM115
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(BENCH.parent / "src"), str(BENCH)]))
        command = [
            sys.executable, "-m", "activejob", "worker", "--adapter", url,
            "--import", "flow_concurrency_jobs", "--queues", QUEUE, "--threads", "2",
            "--log-level", "WARNING", "--no-scheduler",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command, cwd=BENCH.parent, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def blocked_latencies(url: str, storage: Storage, samples: int) -> tuple[list[float], list[float]]:
    """Seconds from the holder's last line to the blocked job's start, in one idle
    worker (the one that completes the holder, then claims the unblocked job); and,
    beside each, from ``perform_later`` of an unlimited job to its start in the same
    idle worker (the plain wake-up, under the same load)."""
    _empty(storage)
    inbox = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inbox.bind(("127.0.0.1", 0))
    inbox.settimeout(20)
    port = inbox.getsockname()[1]
    delays: list[float] = []
    plain: list[float] = []
    before = {w["id"] for w in storage.workers()}
    worker = Worker(url)
    try:
        until(lambda: len({w["id"] for w in storage.workers()} - before) >= 1, 60, "worker")
        for i in range(samples + 1):
            time.sleep(0.01)  # sleep-ok: let the worker go idle (blocked in wait) again
            SlotJob.perform_later(port, "holder")
            message, holder = inbox.recvfrom(64)
            if not message.startswith(b"start holder"):
                raise RuntimeError(f"unexpected {message!r}")
            waiter = SlotJob.perform_later(port, "waiter")
            info = storage.get(waiter.job_id)
            if info is None or info.state is not JobState.BLOCKED:
                raise RuntimeError(f"the second job of the key is not blocked: {info}")
            inbox.sendto(b"go", holder)
            seen: dict[tuple[str, str], float] = {}
            while ("end", "waiter") not in seen:
                what, role, at = inbox.recv(64).decode().split()
                seen[(what, role)] = float(at)
            time.sleep(0.01)  # sleep-ok: idle again before the plain wake-up
            enqueued = time.time()
            PlainJob.perform_later(port, "plain")
            what, role, at = inbox.recv(64).decode().split()
            if i:  # the first round warms the worker's path up
                delays.append(seen[("start", "waiter")] - seen[("end", "holder")])
                plain.append(float(at) - enqueued)
    finally:
        worker.stop()
        inbox.close()
    _empty(storage)
    return delays, plain


def rows(name: str, url: str, storage: Storage, samples: int) -> list[Row]:
    """The concurrency rows for backend ``name`` (``activejob`` configured for ``url``)."""
    n = 2000 if samples <= 50 else 5000
    unlimited, limited = [], []
    for _ in range(3):  # interleaved, best of three each: the same load for both
        unlimited.append(claim_rate(storage, n, limited=False))
        limited.append(claim_rate(storage, n, limited=True))
    delays, plain = blocked_latencies(url, storage, min(samples, 100))
    p50, plain_p50 = statistics.median(delays) * 1000, statistics.median(plain) * 1000
    p99 = statistics.quantiles(delays, n=100, method="inclusive")[98] * 1000
    plain_p99 = statistics.quantiles(plain, n=100, method="inclusive")[98] * 1000
    found = [
        Row(f"{name} claims, 1 per key over {KEYS} keys, vs unlimited", max(limited),
            max(unlimited), "jobs/s", CLAIM_TARGET),
        Row(f"{name} blocked job starts after the slot frees, p50 (raw: plain enqueue-to-start)",
            p50, plain_p50, "ms", LATENCY_TARGET.get(name)),
        Row(f"{name} blocked job starts after the slot frees, p99", p99, plain_p99, "ms"),
    ]  # fmt: skip
    if name == "postgresql":
        found.append(_vacuumed_row(url, storage, min(samples, 100)))
    return found


def _vacuumed_row(url: str, storage: Storage, samples: int) -> Row:
    """PostgreSQL's blocked start again, once ``VACUUM`` has cleared the dead row
    versions the claim loops above left in the jobs table. No target: it shows
    what those dead rows cost the hand-on, whose completion statement plans and
    runs slower over them until a vacuum (the worker's own vacuum starts at
    50,000 dead rows, autovacuum within a minute)."""
    import psycopg

    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as conn:
        conn.execute("VACUUM activejob_jobs")
    delays, plain = blocked_latencies(url, storage, samples)
    return Row(
        "postgresql blocked job starts after the slot frees, p50, jobs table vacuumed first",
        statistics.median(delays) * 1000, statistics.median(plain) * 1000, "ms",
    )  # fmt: skip


def _scratch(name: str, server: str) -> str:
    """A fresh database ``activejob_bench_flow`` on ``server`` (PostgreSQL, MySQL)."""
    base = server.rsplit("/", 1)[0]
    if name == "postgresql":
        import psycopg

        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS activejob_bench_flow WITH (FORCE)")
            admin.execute("CREATE DATABASE activejob_bench_flow")
    else:
        import MySQLdb

        parts = urllib.parse.urlsplit(server)
        conn = MySQLdb.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=parts.username or "root",
            passwd=parts.password or "",
        )
        conn.cursor().execute("DROP DATABASE IF EXISTS activejob_bench_flow")
        conn.cursor().execute("CREATE DATABASE activejob_bench_flow")
        conn.close()
    return f"{base}/activejob_bench_flow"


def main() -> None:
    from run import print_table

    from activejob.adapters.cache import reset_adapters
    from activejob.adapters.durable import storage_of

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql,mysql,redis")
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    servers = {
        "postgresql": os.environ.get(
            "ACTIVEJOB_TEST_POSTGRESQL_URL", "postgresql://127.0.0.1:5432/test"
        ),
        "mysql": os.environ.get("ACTIVEJOB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
        "redis": os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    table = []
    with tempfile.TemporaryDirectory() as folder:
        for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
            if name == "sqlite":
                url = f"sqlite:///{folder}/flow.sqlite3"
            elif name == "redis":
                url = f"{servers['redis']}?prefix=activejob-bench-flow-{os.getpid()}"
            else:
                url = _scratch(name, servers[name])
            activejob.configure(adapter=url)
            storage = storage_of(url)
            storage.migrate()
            try:
                table += rows(name, url, storage, 30 if args.quick else 200)
            finally:
                reset_adapters(wait=True)
    print_table(table, markdown=False)


if __name__ == "__main__":
    main()

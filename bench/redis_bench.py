"""The Redis backend next to raw redis-py loops of the same run, as ratios.

The first four rows are the SQL backends' table (``bench/sql_storage.py``), measured
the same way at the storage level, with Redis's raw loops as the baselines:

- redis enqueue: ``storage.push([job])`` per job vs a raw ``LPUSH`` loop, one round
  trip each;
- redis bulk enqueue: one ``storage.push(jobs)`` vs one pipeline of ``LPUSH``;
- redis processing: ``claim`` 50, read each payload, ``complete`` the 50 as one batch,
  until empty, vs a raw ``BRPOP`` loop taking one message per round trip;
- redis enqueue-to-start p50: a process blocked in ``storage.wait``; the time from
  ``push`` to its ``claim`` returning the job, next to a raw ``LPUSH`` -> blocked
  ``BRPOP`` hand-off between two processes.

Then the Redis issue's own rows, with no-op jobs:

- the same claim/complete loop in 2 processes, as a ratio to 1 process;
- ``activejob worker`` (the real CLI, a subprocess) with 1 and 2 worker processes;
- idle enqueue-to-start (``perform_later`` to ``perform``) and scheduled
  due-to-start through that worker.

Multi-process runs load the jobs into a paused queue, start the processes, and time
from ``resume`` to the last job recorded as succeeded: process start-up is not
counted. Keys live under a fresh prefix, deleted at the end (the server may be
shared). ``measure()`` returns rows of ``measure, ours, raw, unit, ratio, target,
met`` like the other benchmark modules.

Run::

    PYTHONPATH=src python bench/redis_bench.py [--url redis://127.0.0.1:6379/0] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

import activejob
from activejob import Job
from activejob.config import reset_adapters, resolve_adapter
from activejob.storage.base import JobFilter, JobState, NewJob, Result
from activejob.storage.redis import RedisStorage

ROOT = Path(__file__).resolve().parents[1]
QUEUE = "bench"
_client: redis.Redis | None = None


def _results_client() -> redis.Redis:
    """The connection jobs report their timings on (one per worker process)."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["ACTIVEJOB_BENCH_REDIS"])
    return _client


class NoopJob(Job):
    queue_as = QUEUE

    def perform(self, n: int) -> None:
        pass


class LatencyJob(Job):
    """Reports how late it started: now minus ``since`` (enqueue time or due time)."""

    queue_as = QUEUE

    def perform(self, results_key: str, since: float) -> None:
        _results_client().rpush(results_key, time.time() - since)


# -- raw baselines --------------------------------------------------------------------


def payload() -> str:
    return json.dumps(NoopJob(0).serialize())


def raw_lpush_loop(client: redis.Redis, key: str, n: int) -> float:
    body = payload()
    started = time.perf_counter()
    for _ in range(n):
        client.lpush(key, body)
    rate = n / (time.perf_counter() - started)
    client.delete(key)
    return rate


def raw_pipelined_lpush(client: redis.Redis, key: str, n: int) -> float:
    body = payload()
    started = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for _ in range(n):
        pipe.lpush(key, body)
    pipe.execute()
    rate = n / (time.perf_counter() - started)
    client.delete(key)
    return rate


def raw_brpop_loop(client: redis.Redis, key: str, n: int) -> float:
    body = payload()
    pipe = client.pipeline(transaction=False)
    for _ in range(n):
        pipe.lpush(key, body)
    pipe.execute()
    started = time.perf_counter()
    for _ in range(n):
        client.brpop([key], timeout=1)
    return n / (time.perf_counter() - started)


RAW_CONSUMER = """
import sys, time, redis
client = redis.Redis.from_url(sys.argv[1])
print("ready", flush=True)
while True:
    _, sent = client.brpop([sys.argv[2]])
    if sent == b"stop":
        break
    client.rpush(sys.argv[3], time.time() - float(sent))
"""


def raw_handoff_latency(url: str, prefix: str, samples: int) -> list[float]:
    """A process blocked in BRPOP; the time from our LPUSH to its wake-up."""
    client = redis.Redis.from_url(url)
    inbox, outbox = f"{prefix}:raw:in", f"{prefix}:raw:out"
    consumer = subprocess.Popen(
        [sys.executable, "-c", RAW_CONSUMER, url, inbox, outbox], stdout=subprocess.PIPE
    )
    try:
        assert consumer.stdout is not None and consumer.stdout.readline().strip() == b"ready"
        delays = []
        for _ in range(samples):
            time.sleep(0.002)  # sleep-ok: let the consumer block again, as an idle one would
            client.lpush(inbox, repr(time.time()))
            _, delay = client.blpop([outbox])  # type: ignore[misc]
            delays.append(float(delay))
        client.lpush(inbox, "stop")
        consumer.wait(10)
        return delays
    finally:
        if consumer.poll() is None:
            consumer.kill()
        client.delete(inbox, outbox)
        client.close()


# -- ours: the storage, as the SQL table measures it -----------------------------------


def new_job(i: int) -> NewJob:
    return NewJob(f"bench-{i}", NoopJob.job_class_name, QUEUE, 0, payload())


def enqueue_rate(storage: RedisStorage, n: int) -> float:
    jobs = [new_job(i) for i in range(n)]
    started = time.perf_counter()
    for job in jobs:
        storage.push([job])
    return n / (time.perf_counter() - started)


def bulk_rate(storage: RedisStorage, n: int) -> float:
    jobs = [new_job(i) for i in range(n)]
    started = time.perf_counter()
    storage.push(jobs)
    return n / (time.perf_counter() - started)


def process_rate(storage: RedisStorage, n: int, batch: int = 50) -> float:
    storage.push([new_job(i) for i in range(n)])
    done = 0
    started = time.perf_counter()
    while claimed := storage.claim("bench", [QUEUE], batch):
        for job in claimed:
            json.loads(job.payload)
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
        done += len(claimed)
    assert done == n, (done, n)
    return n / (time.perf_counter() - started)


def _env(adapter_url: str) -> dict[str, str]:
    module_dir = Path(sys.modules[NoopJob.__module__].__file__ or "").parent
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), str(module_dir)]),
        ACTIVEJOB_BENCH_REDIS=adapter_url.split("?")[0],
    )


class Spawned:
    """A benchmark subprocess, its output in a temporary file."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="activejob-bench-", suffix=".log")  # noqa: SIM115
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")


LOOP = """
import json, os, sys
from activejob.storage.base import JobState, Result
from activejob.storage.redis import RedisStorage
storage = RedisStorage(sys.argv[1])
worker, queue, batch, worked = f"loop-{os.getpid()}", [sys.argv[2]], int(sys.argv[3]), False
storage.heartbeat(worker)
while True:
    claimed = storage.claim(worker, queue, batch)
    if not claimed:
        if worked:
            break
        storage.wait(queue, 5)
        continue
    worked = True
    for job in claimed:
        json.loads(job.payload)
    storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
storage.unregister_worker(worker)
"""


def loop_processes(adapter_url: str, n: int, processes: int) -> Spawned:
    command = [sys.executable, "-c", LOOP, adapter_url, QUEUE, "50"]
    return _Group([Spawned(command, _env(adapter_url)) for _ in range(processes)])


def worker_processes(
    adapter_url: str, processes: int, threads: int = 5, prefetch: int = 50
) -> Spawned:
    command = [
        sys.executable, "-m", "activejob", "worker", "--adapter", adapter_url,
        "--import", NoopJob.__module__, "--queues", QUEUE, "--processes", str(processes),
        "--threads", str(threads), "--prefetch", str(prefetch), "--poll-interval", "30",
    ]  # fmt: skip
    return Spawned(command, _env(adapter_url))


class _Group(Spawned):
    def __init__(self, members: list[Spawned]) -> None:
        self.members = members

    def stop(self) -> None:
        for member in self.members:
            member.stop()

    def output(self) -> str:
        return "\n".join(member.output() for member in self.members)


def _started(storage: RedisStorage, before: set[str], count: int) -> Callable[[], bool]:
    """Whether ``count`` workers not in ``before`` have registered."""
    return lambda: len({w["id"] for w in storage.workers()} - before) >= count


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"benchmark stuck: {what}")
        time.sleep(0.005)  # sleep-ok: the benchmark polls for its own end condition


def parallel_rate(adapter_url: str, n: int, processes: int, start: Callable[[], Spawned]) -> float:
    """Jobs per second from resume to the last success, with ``processes`` consumers."""
    storage = resolve_adapter(adapter_url).storage  # type: ignore[attr-defined]
    succeeded = storage.key("idx", "succeeded", QUEUE)
    storage.pause(QUEUE)
    storage.push([new_job(i) for i in range(n)])
    before = {w["id"] for w in storage.workers()}
    spawned = start()
    try:
        _until(_started(storage, before, processes), 30, "consumers starting")
        started = time.perf_counter()
        storage.resume(QUEUE)
        try:
            _until(lambda: storage.client.zcard(succeeded) >= n, 120, "jobs finishing")
        except RuntimeError:
            print(spawned.output()[-3000:], file=sys.stderr)
            raise
        rate = n / (time.perf_counter() - started)
    finally:
        spawned.stop()
    storage.prune(0)
    return rate


WAITER = """
import json, sys, time
from activejob.storage.base import JobState, Result
from activejob.storage.redis import RedisStorage
storage = RedisStorage(sys.argv[1])
storage.wait(["latency"], 0.01)
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    while not (jobs := storage.claim("latency", ["latency"], 1)):
        storage.wait(["latency"], 5)
    now = time.time()
    storage.complete([Result(j.id, JobState.SUCCEEDED) for j in jobs])
    print(json.loads(jobs[0].payload)["sent"], now, flush=True)
"""


def storage_latency_ms(adapter_url: str, storage: RedisStorage, samples: int) -> float:
    """As the SQL table: from ``push`` to the claim returning it in a waiting process."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WAITER, adapter_url, str(samples)],
        stdout=subprocess.PIPE, text=True, env=_env(adapter_url),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    delays = []
    for i in range(samples):
        time.sleep(0.01)  # sleep-ok: let the waiter go idle before each job
        sent = time.time()
        body = json.dumps({"sent": sent})
        storage.push([NewJob(f"lat-{i}", "bench.Lat", "latency", 0, body)])
        started_at = float(proc.stdout.readline().split()[1])
        delays.append((started_at - sent) * 1000)
    proc.wait(10)
    return statistics.median(delays)


def worker_latencies_ms(adapter_url: str, prefix: str, samples: int, wait: float | None) -> float:
    """Through ``activejob worker``: from ``perform_later`` (or from the due time, with
    ``wait``) to ``perform`` starting; p50 in milliseconds."""
    storage = resolve_adapter(adapter_url).storage  # type: ignore[attr-defined]
    results = f"{prefix}:bench:latency"
    before = {w["id"] for w in storage.workers()}
    workers = worker_processes(adapter_url, 1)
    try:
        _until(_started(storage, before, 1), 30, "worker starting")
        delays = []
        for _ in range(samples):
            time.sleep(0.01)  # sleep-ok: let the worker go idle (blocked in wait) again
            if wait is None:
                LatencyJob.perform_later(results, time.time())
            else:
                due = time.time() + wait
                LatencyJob.set(wait_until=_utc(due)).perform_later(results, due)
            _, delay = storage.client.blpop([results], timeout=10)
            delays.append(float(delay))
        return statistics.median(delays) * 1000
    finally:
        workers.stop()
        storage.prune(0)


def _utc(seconds: float) -> Any:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, tz=timezone.utc)


# -- the table ------------------------------------------------------------------------


def row(
    measure: str, ours: float, raw: float | None, unit: str, target: str, met: bool | None
) -> dict[str, Any]:
    return {
        "measure": measure,
        "ours": ours,
        "raw": raw,
        "unit": unit,
        "ratio": ours / raw if raw else None,
        "target": target,
        "met": met,
    }


def measure(url: str = "redis://127.0.0.1:6379/0", *, n: int = 20000) -> list[dict[str, Any]]:
    """Run every benchmark; rows of ``measure, ours, raw, unit, ratio, target, met``."""
    prefix = f"ajbench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    adapter_url = f"{url}{'&' if '?' in url else '?'}prefix={prefix}"
    activejob.configure(adapter=adapter_url)
    storage: RedisStorage = resolve_adapter(adapter_url).storage  # type: ignore[attr-defined]
    storage.migrate()
    client = redis.Redis.from_url(url)
    raw_key = f"{prefix}:raw"
    samples = max(20, min(200, n // 100))

    def best(fn: Callable[..., float], *args: Any, repeat: int = 3) -> float:
        rates = []
        for _ in range(repeat):
            rates.append(fn(*args))
            storage.discard(JobFilter(queue_name=QUEUE))
            storage.prune(0)
        return max(rates)

    rows: list[dict[str, Any]] = []
    try:
        lpush = best(raw_lpush_loop, client, raw_key, n // 4)
        ours = best(enqueue_rate, storage, n // 4)
        rows.append(row("redis enqueue", ours, lpush, "jobs/s", ">= 0.8x", ours >= 0.8 * lpush))
        piped = best(raw_pipelined_lpush, client, raw_key, n)
        ours = best(bulk_rate, storage, n)
        rows.append(
            row("redis bulk enqueue", ours, piped, "jobs/s", ">= 0.5x", ours >= 0.5 * piped)
        )
        brpop = best(raw_brpop_loop, client, raw_key, n // 2)
        one = best(process_rate, storage, n)
        rows.append(row("redis processing", one, brpop, "jobs/s", ">= 0.5x", one >= 0.5 * brpop))
        handoff = statistics.median(raw_handoff_latency(url, prefix, samples)) * 1000
        ours = storage_latency_ms(adapter_url, storage, samples)
        rows.append(
            row(
                "redis enqueue-to-start p50 (other process)",
                ours,
                handoff,
                "ms",
                "<= 1 ms",
                ours <= 1.0,
            )
        )
        loop1 = best(
            parallel_rate, adapter_url, n, 1, lambda: loop_processes(adapter_url, n, 1), repeat=2
        )
        loop2 = best(
            parallel_rate, adapter_url, n, 2, lambda: loop_processes(adapter_url, n, 2), repeat=2
        )
        rows.append(
            row(
                "redis processing, 2 processes vs 1",
                loop2,
                loop1,
                "jobs/s",
                ">= 1.6x",
                loop2 >= 1.6 * loop1,
            )
        )
        work1 = best(
            parallel_rate, adapter_url, n, 1, lambda: worker_processes(adapter_url, 1), repeat=2
        )
        rows.append(
            row(
                "activejob worker, 1 process, no-op jobs",
                work1,
                brpop,
                "jobs/s",
                ">= 0.5x",
                work1 >= 0.5 * brpop,
            )
        )
        work2 = best(
            parallel_rate, adapter_url, n, 2, lambda: worker_processes(adapter_url, 2), repeat=2
        )
        rows.append(
            row(
                "activejob worker, 2 processes vs 1",
                work2,
                work1,
                "jobs/s",
                ">= 1.6x",
                work2 >= 1.6 * work1,
            )
        )
        idle = worker_latencies_ms(adapter_url, prefix, samples, None)
        rows.append(
            row(
                "activejob worker, idle enqueue-to-start p50",
                idle,
                handoff,
                "ms",
                "<= 1 ms",
                idle <= 1.0,
            )
        )
        due = worker_latencies_ms(adapter_url, prefix, max(20, samples // 4), 0.02)
        rows.append(
            row(
                "activejob worker, scheduled due-to-start p50",
                due,
                handoff,
                "ms",
                "a few ms",
                due <= 5.0,
            )
        )
    finally:
        reset_adapters(wait=True)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
        client.close()
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"| {'measure':45} | {'ours':>9} | {'raw':>9} | unit   | ratio | target |")
    print(f"|{'-' * 47}|{'-' * 11}|{'-' * 11}|--------|-------|--------|")
    for r in rows:
        digits = 2 if r["unit"] == "ms" else 0
        raw = "" if r["raw"] is None else f"{r['raw']:,.{digits}f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        mark = "" if r["met"] is None else " met" if r["met"] else " MISSED"
        print(
            f"| {r['measure']:45} | {r['ours']:9,.{digits}f} | {raw:>9} | {r['unit']:6} | "
            f"{ratio:>5} | {r['target']}{mark} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default_url = os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    parser.add_argument("--url", default=default_url)
    parser.add_argument("-n", type=int, default=20000, help="jobs per throughput measure")
    args = parser.parse_args()
    print_table(measure(args.url, n=args.n))


if __name__ == "__main__":
    # Run under the module's importable name, so that worker processes (which
    # ``--import`` it) and this process agree on the job class names.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import redis_bench

    redis_bench.main()

"""What a user sees: ``activejob worker`` (the real CLI, in subprocesses) running
no-op jobs, for any backend URL.

- throughput with 1 and with 2 worker processes: the jobs are loaded into a paused
  queue first and the workers started; the clock runs from ``resume`` to the last
  job counted as succeeded, so process start-up is not measured; on Linux, how
  busy the machine's cores were in that window (from ``/proc/stat``): where one
  process already keeps 1.3 of 2 cores busy (itself, the server, the benchmark),
  two running at the same CPU per job can be at most 2/1.3 = 1.5x as fast (bigger
  batches can lower the CPU per job, so this is a guide, not a law);
- idle enqueue-to-start: ``perform_later`` to the job's ``perform`` starting in an
  idle worker (it reports over UDP), p50 and p99;
- scheduled due-to-start: a job due 20 ms out, from its due time to ``perform``.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import bench_jobs
import counts
from bench_jobs import BODIES, QUEUE, LatencyJob, NoopJob, SleepJob

import activejob
from activejob import Job
from activejob.storage.base import JobFilter, Storage

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail loudly after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"benchmark stuck: {what}")
        time.sleep(0.005)  # sleep-ok: the benchmark polls for its own end condition


class Workers:
    """``activejob worker`` in a subprocess, its output kept in a temporary file."""

    def __init__(
        self, url: str, processes: int, threads: int = 5, log_level: str = "WARNING"
    ) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="activejob-bench-", suffix=".log")  # noqa: SIM115
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(BENCH)]))
        command = [
            sys.executable, "-m", "activejob", "worker", "--adapter", url,
            "--import", bench_jobs.__name__, "--queues", QUEUE,
            "--processes", str(processes), "--threads", str(threads),
            "--log-level", log_level,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if exc[0] is not None:
            self.log.flush()
            print(Path(self.log.name).read_text(errors="replace")[-3000:], file=sys.stderr)
        self.log.close()


def _live_workers(storage: Storage) -> set[str]:
    return {w["id"] for w in storage.workers()}


def _started(url: str, processes: int, storage: Storage, log_level: str = "WARNING",
             threads: int = 5) -> Workers:  # fmt: skip
    before = _live_workers(storage)
    workers = Workers(url, processes, threads=threads, log_level=log_level)
    until(lambda: len(_live_workers(storage) - before) >= processes, 60, "workers starting")
    return workers


def _succeeded(storage: Storage, n: int) -> int:
    """Succeeded jobs of the benchmark's queue, exact up to ``n``."""
    return counts.succeeded(storage, QUEUE, n)


def _empty(storage: Storage) -> None:
    storage.discard(JobFilter(queue_name=QUEUE))
    storage.prune(0)


def busy_cores() -> Callable[[], float | None]:
    """Start counting; the returned function gives the average number of the
    machine's cores that were busy since (``None`` where ``/proc/stat`` is missing)."""

    def read() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as stat:
                fields = [int(f) for f in stat.readline().split()[1:]]
        except OSError:
            return None
        return sum(fields), fields[3] + fields[4]  # all ticks, idle + iowait ticks

    before = read()

    def since() -> float | None:
        after = read()
        if before is None or after is None or after[0] == before[0]:
            return None
        total, idle = after[0] - before[0], after[1] - before[1]
        return (1 - idle / total) * (os.cpu_count() or 1)

    return since


def throughput(
    url: str, storage: Storage, n: int, processes: int, log_level: str = "WARNING",
    job: type[Job] = NoopJob, threads: int = 5,
) -> tuple[float, float | None]:  # fmt: skip
    """Jobs of ``job`` (no-op ones by default) per second through ``activejob
    worker --processes N --threads T``, and the machine's busy cores meanwhile (see
    :func:`busy_cores`). Per-job log lines are off (``WARNING``) unless
    ``log_level`` says otherwise; they go to a file."""
    _empty(storage)
    storage.pause(QUEUE)
    for start in range(0, n, 5000):
        activejob.perform_all_later([job(i) for i in range(start, min(n, start + 5000))])
    with _started(url, processes, storage, log_level, threads) as workers:
        started = time.perf_counter()
        busy = busy_cores()
        storage.resume(QUEUE)
        deadline = time.monotonic() + 300
        while (done := _succeeded(storage, n)) < n:
            if time.monotonic() > deadline or workers.proc.poll() is not None:
                raise RuntimeError(f"benchmark stuck: {done} of {n} jobs succeeded")
            # Poll often only near the end: counting costs the server work too.
            elapsed = time.perf_counter() - started
            left = (n - done) / (done / elapsed) if done else 0.05
            time.sleep(min(0.05, max(0.002, left / 2)))  # sleep-ok: polls its end condition
        rate = n / (time.perf_counter() - started)
        cores = busy()
    _empty(storage)
    return rate, cores


def latencies(url: str, storage: Storage, samples: int, due_in: float | None) -> list[float]:
    """Seconds from ``perform_later`` (or, with ``due_in``, from the due time) to
    ``perform`` starting in an idle worker."""
    _empty(storage)
    inbox = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inbox.bind(("127.0.0.1", 0))
    inbox.settimeout(10)
    port = inbox.getsockname()[1]
    delays = []
    try:
        with _started(url, 1, storage):
            LatencyJob.perform_later(port, time.time())  # warm up the worker's path
            inbox.recv(64)
            for _ in range(samples):
                time.sleep(0.01)  # sleep-ok: let the worker go idle (blocked in wait) again
                if due_in is None:
                    LatencyJob.perform_later(port, time.time())
                else:
                    due = time.time() + due_in
                    at = datetime.fromtimestamp(due, tz=timezone.utc)
                    LatencyJob.set(wait_until=at).perform_later(port, due)
                delays.append(float(inbox.recv(64)))
    finally:
        inbox.close()
    _empty(storage)
    return delays


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def measure(url: str, storage: Storage, n: int, samples: int) -> dict[str, Any]:
    """Every worker-level figure for the backend at ``url``."""
    # WARNING and INFO in turn (W, I, W, I): the log-cost row is their ratio, so a
    # drift in the machine's speed during the run must touch both alike.
    pairs = [(throughput(url, storage, n, 1), throughput(url, storage, n, 1, "INFO"))
             for _ in range(2)]  # fmt: skip
    one, one_busy = max((quiet for quiet, _ in pairs), key=lambda m: m[0])
    logged = max(info[0] for _, info in pairs)
    two, _ = max((throughput(url, storage, n, 2) for _ in range(2)), key=lambda m: m[0])
    idle = latencies(url, storage, samples, None)
    due = latencies(url, storage, max(20, samples // 4), 0.02)
    return {
        "worker_1": one,
        "worker_2": two,
        "worker_1_info": logged,
        "busy_1": one_busy,
        "idle_p50": percentile(idle, 50),
        "idle_p99": percentile(idle, 99),
        "due_p50": percentile(due, 50),
    }


WIDE_THREADS = 20
"""``--threads`` of the wide run: 1 ms-sleep jobs, against an ideal of 1,000 jobs/s
per thread."""


def bodies(url: str, storage: Storage, n: int) -> dict[str, float]:
    """Real job bodies (:data:`bench_jobs.BODIES`) through one worker process with 5
    threads, at ``WARNING`` and at the default ``INFO`` in turn; and 1 ms-sleep jobs
    with ``--threads 20`` at both levels."""
    found: dict[str, float] = {}
    runs = [(name, job, n, 5) for name, job in BODIES.items()]
    runs.append(("wide", SleepJob, 2 * n, WIDE_THREADS))
    for name, job, count, threads in runs:
        for _ in range(2):  # WARNING, INFO, WARNING, INFO: each the best of its two
            for level in ("WARNING", "INFO"):
                rate = throughput(url, storage, count, 1, level, job, threads)[0]
                found[f"{name} {level}"] = max(rate, found.get(f"{name} {level}", 0.0))
    return found

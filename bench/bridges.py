"""Bridges against the foreign system's own task, same worker, same run.

    .venv/bin/python bench/bridges.py            # or: make bench-bridges
    .venv/bin/python bench/bridges.py --jobs 1000 --only celery

For each system and broker, with no worker running, four batches go onto one
queue, each between two markers: activejob jobs one ``perform_later`` at a
time, the system's own no-op task one send at a time, the own task through its
bulk path, activejob's ``perform_all_later``. Each enqueue is timed. Then the
system's own worker starts (one process, one thread: the batches run in order)
and the markers time each batch's processing. Rows compare ours with native:
enqueue and bulk enqueue (best of three rounds, the two later ones enqueued
after the measured batches), worker throughput (the better of the two batches
of each kind); target >= 0.8x.

``AJ_BENCH_LOG_LEVEL=WARNING`` sets the ``activejob`` logger's level in the
workers (and here): what the per-job INFO lines cost the worker rows.

To add a system, write ``measure_x(jobs: int) -> list[Row]`` and append it to
:data:`SYSTEMS`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

import bridge_apps  # noqa: E402

import activejob  # noqa: E402
from activejob import config  # noqa: E402

REDIS = os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("ACTIVEJOB_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
TARGET = 0.8


@dataclass
class Row:
    """One line: ours, the native figure beside it, the ratio, the target."""

    measure: str
    ours: float
    native: float
    unit: str = "jobs/s"
    target: float | None = TARGET

    @property
    def ratio(self) -> float:
        return self.ours / self.native if self.native else 0.0

    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f">= {self.target:g}x {'met' if self.ratio >= self.target else 'MISSED'}"


def rate(n: int, fn: Callable[[], object]) -> float:
    """Jobs per second of ``fn``, which handles ``n`` jobs."""
    started = time.perf_counter()
    fn()
    return n / (time.perf_counter() - started)


@contextmanager
def foreign_worker(argv: Sequence[str], env: dict[str, str], ready: str) -> Iterator[None]:
    """The system's own worker (``python -m <argv>``), until the block ends."""
    log = Path(tempfile.mkstemp(prefix="aj-bench-worker-", suffix=".log")[1])
    full = {**os.environ, "PYTHONPATH": f"{BENCH}{os.pathsep}{ROOT / 'src'}", **env}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", *argv], cwd=BENCH, env=full,
                                   stdout=out, stderr=out)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while ready not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)  # sleep-ok: polling a log file with a deadline
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink()


@dataclass
class Batch:
    """Jobs between two markers, and how fast they were enqueued."""

    kind: str  # "ours" or "native"
    start: Path
    stop: Path
    enqueue_rate: float = 0.0

    def throughput(self, n: int, timeout: float = 300.0) -> float:
        deadline = time.monotonic() + timeout
        while not self.stop.exists() or not self.stop.read_text():
            if time.monotonic() > deadline:
                raise RuntimeError(f"batch {self.kind} did not finish in {timeout}s")
            time.sleep(0.01)  # sleep-ok: polling a marker file with a deadline
        return n / (float(self.stop.read_text()) - float(self.start.read_text()))


def batches(
    tmp: Path, n: int, ours_one: Callable[[int], object], ours_all: Callable[[list[int]], object],
    native_one: Callable[[int], object], native_all: Callable[[list[int]], object],
    mark_ours: Callable[[str], object], mark_native: Callable[[str], object],
) -> list[Batch]:  # fmt: skip
    """Enqueue the four batches (ours, native, native bulk, ours bulk), timed."""
    plan = [
        ("ours", lambda: [ours_one(i) for i in range(n)], mark_ours),
        ("native", lambda: [native_one(i) for i in range(n)], mark_native),
        ("native", lambda: native_all(list(range(n))), mark_native),
        ("ours", lambda: ours_all(list(range(n))), mark_ours),
    ]
    for i in range(50):  # warm up: connections, caches; run before the first marker
        ours_one(i)
        native_one(i)
    found = []
    for i, (kind, enqueue, marker) in enumerate(plan):
        batch = Batch(kind, tmp / f"{i}.start", tmp / f"{i}.stop")
        marker(str(batch.start))
        batch.enqueue_rate = rate(n, enqueue)
        marker(str(batch.stop))
        found.append(batch)
    # Two more rounds of each enqueue, in the same order, after the last marker (the
    # worker runs them after the measured batches): the best round of each counts,
    # as a busy machine only ever slows one down.
    for _ in range(2):
        for batch, (_kind, enqueue, _marker) in zip(found, plan, strict=True):
            batch.enqueue_rate = max(batch.enqueue_rate, rate(n, enqueue))
    return found


def rows(name: str, n: int, done: list[Batch], bulk_name: str) -> list[Row]:
    """The three rows for one system from its four batches."""
    one_ours, one_native, all_native, all_ours = done
    ours = max(one_ours.throughput(n), all_ours.throughput(n))
    native = max(one_native.throughput(n), all_native.throughput(n))
    return [
        Row(f"{name} enqueue: perform_later vs own task", one_ours.enqueue_rate,
            one_native.enqueue_rate),
        Row(f"{name} bulk: perform_all_later vs {bulk_name}", all_ours.enqueue_rate,
            all_native.enqueue_rate),
        Row(f"{name} worker: no-op jobs vs own no-op task", ours, native),
    ]  # fmt: skip


def _scratch_config() -> Any:
    import dataclasses

    return dataclasses.replace(config.get_config())


def _restore(saved: Any) -> None:
    import dataclasses

    for f in dataclasses.fields(saved):
        setattr(config.get_config(), f.name, getattr(saved, f.name))


def measure_celery(broker_name: str, url: str, n: int) -> list[Row]:
    """Celery on ``url``: ``-P solo`` worker, prefetch as Celery's default."""
    prefix = f"ajbench_{uuid.uuid4().hex[:8]}"
    saved = _scratch_config()
    app, noop, marker = bridge_apps.celery_app(url, prefix)

    def native_all(ids: list[int]) -> None:
        with app.producer_or_acquire() as producer:  # what Celery's group does
            for i in ids:
                noop.apply_async((i,), producer=producer)

    with tempfile.TemporaryDirectory() as tmp:
        done = batches(
            Path(tmp), n,
            lambda i: bridge_apps.BridgeNoopJob.perform_later(i),
            lambda ids: activejob.perform_all_later([bridge_apps.BridgeNoopJob(i) for i in ids]),
            lambda i: noop.delay(i), native_all,
            lambda p: bridge_apps.MarkJob.perform_later(p), lambda p: marker.delay(p),
        )  # fmt: skip
        env = {"AJ_BENCH_SYSTEM": "celery", "AJ_BENCH_BROKER": url, "AJ_BENCH_PREFIX": prefix}
        argv = ["celery", "-A", "bridge_apps", "worker", "-P", "solo", "-l", "WARNING",
                "-Q", f"{prefix}_default", "--without-heartbeat", "--without-gossip",
                "--without-mingle"]  # fmt: skip
        # Celery logs its readiness at INFO; WARNING keeps per-task lines out of the
        # measure, so wait for the banner instead.
        with foreign_worker(argv, env, "[queues]"):
            found = rows(f"celery/{broker_name}", n, done, "one producer")
    with app.connection_for_write() as connection:
        if url.startswith("amqp"):
            connection.default_channel.queue_delete(f"{prefix}_default")
        else:
            client = connection.default_channel.client
            keys = list(client.scan_iter(f"{prefix}_default*"))
            if keys:
                client.delete(*keys)
    app.close()
    _restore(saved)
    return found


def measure_dramatiq(broker_name: str, url: str, n: int) -> list[Row]:
    """Dramatiq on ``url``: one process, one thread."""
    import dramatiq

    prefix = f"ajbench_{uuid.uuid4().hex[:8]}"
    if url.endswith("//"):
        url = url[:-1] + "%2F"  # pika's spelling of the default virtual host
    saved = _scratch_config()
    broker, noop, marker = bridge_apps.dramatiq_broker(url, prefix)

    with tempfile.TemporaryDirectory() as tmp:
        done = batches(
            Path(tmp), n,
            lambda i: bridge_apps.BridgeNoopJob.perform_later(i),
            lambda ids: activejob.perform_all_later([bridge_apps.BridgeNoopJob(i) for i in ids]),
            lambda i: noop.send(i),
            lambda ids: dramatiq.group(noop.message(i) for i in ids).run(),
            lambda p: bridge_apps.MarkJob.perform_later(p), lambda p: marker.send(p),
        )  # fmt: skip
        env = {"AJ_BENCH_SYSTEM": "dramatiq", "AJ_BENCH_BROKER": url, "AJ_BENCH_PREFIX": prefix}
        argv = ["dramatiq", "bridge_apps:broker", "--processes", "1", "--threads", "1"]
        with foreign_worker(argv, env, "is ready for action"):
            found = rows(f"dramatiq/{broker_name}", n, done, "dramatiq.group")
    queue = f"{prefix}_default"
    if url.startswith("amqp"):
        for suffix in ("", ".DQ", ".XQ"):
            broker.channel.queue_delete(queue + suffix)
    else:
        keys = list(broker.client.scan_iter(f"{prefix}:*"))
        if keys:
            broker.client.delete(*keys)
    broker.close()
    _restore(saved)
    return found


SYSTEMS: list[tuple[str, Callable[[int], list[Row]]]] = [
    ("celery", lambda n: measure_celery("redis", REDIS, n)),
    ("celery", lambda n: measure_celery("rabbitmq", RABBITMQ, n)),
    ("dramatiq", lambda n: measure_dramatiq("redis", REDIS, n)),
    ("dramatiq", lambda n: measure_dramatiq("rabbitmq", RABBITMQ, n)),
]
"""(system name for ``--only``, measure function taking the batch size)."""


def table(found: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| measure | ours | native | ratio | target |", "|---|---:|---:|---:|---|"]
    for row in found:
        lines.append(f"| {row.measure} | {row.ours:,.0f} {row.unit} | {row.native:,.0f} "
                     f"{row.unit} | {row.ratio:.2f}x | {row.target_text()} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measures and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per batch (default 2000)")
    parser.add_argument("--only", default="", help="comma-separated systems (celery,dramatiq)")
    args = parser.parse_args(argv)
    only = {s for s in args.only.split(",") if s}
    found: list[Row] = []
    for name, measure in SYSTEMS:
        if not only or name in only:
            found.extend(measure(args.jobs))
    print(f"python {sys.version.split()[0]}, {args.jobs} jobs per batch")
    print(table(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Bridges against the foreign system's own task, same worker, same run.

    .venv/bin/python bench/bridges.py            # or: make bench-bridges
    .venv/bin/python bench/bridges.py --jobs 1000 --only celery

For each system and broker, with no worker running: ``--rounds`` (default 5)
rounds of timed enqueues (ours one ``perform_later`` at a time, native one send
at a time, native through its bulk path, ours ``perform_all_later``), each round
in eight slices that the four take turns on, the order reversed every other
slice, then flushed. Then batches of no-op jobs go onto one
queue, each between two markers: per round four batches of activejob jobs and
four of the system's own no-op task, taking turns (ABBA); the system's own
worker starts (one process, one thread: the queue runs in order) and the markers
time each batch. Each row is the median of the rounds, its ratio the median of
the per-round ratios (ours and native measured back to back, so the machine's
load of the moment hits both) with their spread: enqueue, bulk enqueue, worker
throughput; target >= 0.8x. Beside each wall-clock ratio, the same ratio in CPU
time (the enqueueing process's ``process_time``; the worker's, read by the
markers, or an RQ/Huey worker's rusage), which another process's load on a
shared machine disturbs far less; the target is read on the wall-clock ratio.
One worker runs ours and native with the same settings, printed under the
table; each at its system's default log level
(Celery WARNING, Dramatiq INFO, where Dramatiq's per-message lines and the
bridge's are DEBUG).

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
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

import bridge_apps  # noqa: E402
import bridges_rq_huey  # noqa: E402

import activejob  # noqa: E402
from activejob import config  # noqa: E402

REDIS = os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("ACTIVEJOB_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
TARGET = 0.8
SETTINGS: list[str] = []
"""The worker settings of each system measured, printed under the table."""


@dataclass
class Row:
    """One line: ours and native (medians of the rounds), the ratio (the median of
    each round's ours/native, the two measured back to back), its spread, the target."""

    measure: str
    ours: float
    native: float
    unit: str = "jobs/s"
    target: float | None = TARGET
    ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)
    """The per-round ratios in CPU time (jobs per CPU second, ours / native)."""

    @classmethod
    def of_rounds(cls, measure: str, ours: Sequence[Rate], native: Sequence[Rate],
                  unit: str = "jobs/s", target: float | None = TARGET) -> Row:  # fmt: skip
        """A row from paired rounds: ``ours[i]`` was measured next to ``native[i]``."""
        ratios = [o[0] / n[0] for o, n in zip(ours, native, strict=True) if n[0]]
        cpu = [o[1] / n[1] for o, n in zip(ours, native, strict=True) if n[1] and o[1]]
        return cls(measure, median(r[0] for r in ours), median(r[0] for r in native), unit,
                   target, ratios, cpu)  # fmt: skip

    @property
    def ratio(self) -> float:
        if self.ratios:
            return median(self.ratios)
        return self.ours / self.native if self.native else 0.0

    def spread_text(self) -> str:
        if len(self.ratios) < 2:
            return ""
        return f"{min(self.ratios):.2f}-{max(self.ratios):.2f}"

    def cpu_text(self) -> str:
        """The CPU-time ratio (median of the rounds) and its spread."""
        if not self.cpu_ratios:
            return ""
        spread = (f" ({min(self.cpu_ratios):.2f}-{max(self.cpu_ratios):.2f})"
                  if len(self.cpu_ratios) > 1 else "")  # fmt: skip
        return f"{median(self.cpu_ratios):.2f}x{spread}"

    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f">= {self.target:g}x {'met' if self.ratio >= self.target else 'MISSED'}"


Rate = tuple[float, float]
"""Jobs per second of wall-clock time, and per second of CPU time."""


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
    """Jobs between two markers: one slice of a round's jobs of one kind."""

    kind: str  # "ours" or "native"
    round: int
    start: Path
    stop: Path

    def seconds(self, timeout: float = 300.0) -> tuple[float, float]:
        """Wall-clock and worker CPU seconds between the markers (each marker writes
        both, see ``bridge_apps.mark``), once the second has run."""
        deadline = time.monotonic() + timeout
        while not self.stop.exists() or not self.stop.read_text():
            if time.monotonic() > deadline:
                raise RuntimeError(f"batch {self.kind} did not finish in {timeout}s")
            time.sleep(0.01)  # sleep-ok: polling a marker file with a deadline
        (wall0, cpu0), (wall1, cpu1) = (
            map(float, path.read_text().split()) for path in (self.start, self.stop)
        )
        return wall1 - wall0, max(cpu1 - cpu0, 0.0)


@dataclass
class Plan:
    """How to enqueue one system's jobs: ours and native, one at a time and in bulk,
    and a marker of each kind."""

    ours_one: Callable[[int], object]
    ours_all: Callable[[list[int]], object]
    native_one: Callable[[int], object]
    native_all: Callable[[list[int]], object]
    mark_ours: Callable[[str], object]
    mark_native: Callable[[str], object]


ROUNDS = 5
"""Rounds of each measure (``--rounds``). Ours and native alternate within a round
(ABBA order from one round to the next), so the machine's load of the moment hits
both; a row is the median of the rounds, with the spread of the per-round ratios."""


WARMUP = 200
"""Untimed jobs of each kind the worker runs before the first timed batch."""


def timed_enqueues(n: int, plan: Plan) -> dict[str, list[Rate]]:
    """With no worker running: rounds of each enqueue, the kinds taking turns slice
    by slice (``bridges_rq_huey.sliced_rates``); the rate of each, round by round.
    The jobs are flushed afterwards, unrun."""
    for i in range(50):  # warm up: connections, caches
        plan.ours_one(i)
        plan.native_one(i)
    return bridges_rq_huey.sliced_rates(n, {
        "ours_one": lambda ids: [plan.ours_one(i) for i in ids],
        "native_one": lambda ids: [plan.native_one(i) for i in ids],
        "native_all": plan.native_all,
        "ours_all": plan.ours_all,
    })  # fmt: skip


WORKER_SLICES = 4
"""Batches of each kind per round for the worker rows: a round's jobs of each kind
go in this many batches, ours and native taking turns (ABBA), for the reason of
``bridges_rq_huey.SLICES``."""


def throughput_batches(tmp: Path, n: int, plan: Plan) -> list[Batch]:
    """With no worker running: rounds of ours and native no-ops, each round in
    batches between two markers, the kinds taking turns batch by batch."""
    batches: list[Batch] = []
    # Untimed, first in the queue: the worker's first jobs of each kind (imports,
    # caches, the broker's prefetch filling up) would otherwise count for round 1.
    plan.ours_all(list(range(WARMUP)))
    plan.native_all(list(range(WARMUP)))
    size = max(1, n // WORKER_SLICES)
    kinds = [("ours", plan.ours_all, plan.mark_ours),
             ("native", plan.native_all, plan.mark_native)]  # fmt: skip
    turn = 0
    for r in range(ROUNDS):
        for start in range(0, n, size):
            ids = list(range(start, min(n, start + size)))
            for kind, enqueue, marker in kinds if turn % 2 == 0 else kinds[::-1]:
                batch = Batch(kind, r, tmp / f"{len(batches)}.start", tmp / f"{len(batches)}.stop")
                marker(str(batch.start))
                enqueue(ids)
                marker(str(batch.stop))
                batches.append(batch)
            turn += 1
    return batches


def enqueue_rows(name: str, rates: dict[str, list[Rate]], bulk_name: str) -> list[Row]:
    """The enqueue and bulk enqueue rows for one system."""
    return [
        Row.of_rounds(f"{name} enqueue: perform_later vs own task", rates["ours_one"],
                      rates["native_one"]),
        Row.of_rounds(f"{name} bulk: perform_all_later vs {bulk_name}", rates["ours_all"],
                      rates["native_all"]),
    ]  # fmt: skip


def worker_row(measure: str, n: int, batches: list[Batch]) -> Row:
    """The worker's throughput on ours and on native, round by round, once it has
    run ``batches`` (each round's batches of one kind hold ``n`` jobs)."""
    spent: dict[tuple[str, int], list[float]] = {}
    for batch in batches:
        wall, cpu = batch.seconds()
        total = spent.setdefault((batch.kind, batch.round), [0.0, 0.0])
        total[0] += wall
        total[1] += cpu
    rates: dict[str, list[Rate]] = {"ours": [], "native": []}
    for (kind, _round), (wall, cpu) in sorted(spent.items(), key=lambda item: item[0][1]):
        rates[kind].append((n / wall, n / max(cpu, 1e-9)))
    return Row.of_rounds(measure, rates["ours"], rates["native"])


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

    plan = Plan(
        lambda i: bridge_apps.BridgeNoopJob.perform_later(i),
        lambda ids: activejob.perform_all_later([bridge_apps.BridgeNoopJob(i) for i in ids]),
        lambda i: noop.delay(i), native_all,
        lambda p: bridge_apps.MarkJob.perform_later(p), lambda p: marker.delay(p),
    )  # fmt: skip
    queue = f"{prefix}_default"
    name = f"celery/{broker_name}"
    found = enqueue_rows(name, timed_enqueues(n, plan), "one producer")
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
    env = {"AJ_BENCH_SYSTEM": "celery", "AJ_BENCH_BROKER": url, "AJ_BENCH_PREFIX": prefix}
    # Celery's default log level, WARNING: neither Celery's per-task lines nor ours.
    argv = ["celery", "-A", "bridge_apps", "worker", "-P", "solo", "-l", "WARNING", "-Q", queue,
            "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip
    late = os.environ.get("AJ_BENCH_ACKS_LATE", "1") == "1"
    SETTINGS.append(
        f"{name}: one `celery worker -P solo -l WARNING` runs both; prefetch multiplier "
        f"{app.conf.worker_prefetch_multiplier}; acks_late bridge True, native {late}; "
        "ignore_result both"
    )
    with tempfile.TemporaryDirectory() as tmp:
        batches = throughput_batches(Path(tmp), n, plan)
        # At WARNING the ready line is not logged: the banner's queue list says it.
        with foreign_worker(argv, env, "[queues]"):
            found.append(worker_row(f"{name} worker: no-op jobs vs own no-op task", n, batches))
    bridge_apps.drop_celery_queue(app, url, prefix)
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

    plan = Plan(
        lambda i: bridge_apps.BridgeNoopJob.perform_later(i),
        lambda ids: activejob.perform_all_later([bridge_apps.BridgeNoopJob(i) for i in ids]),
        lambda i: noop.send(i),
        lambda ids: dramatiq.group(noop.message(i) for i in ids).run(),
        lambda p: bridge_apps.MarkJob.perform_later(p), lambda p: marker.send(p),
    )  # fmt: skip
    name = f"dramatiq/{broker_name}"
    found = enqueue_rows(name, timed_enqueues(n, plan), "dramatiq.group")
    broker.flush(f"{prefix}_default")
    env = {"AJ_BENCH_SYSTEM": "dramatiq", "AJ_BENCH_BROKER": url, "AJ_BENCH_PREFIX": prefix}
    argv = ["dramatiq", "bridge_apps:broker", "--processes", "1", "--threads", "1"]
    # Dramatiq's default log level, INFO: neither Dramatiq's per-message lines (DEBUG)
    # nor the bridge's (DEBUG too). AJ_BENCH_LOG_LEVEL=DEBUG shows both, as --verbose.
    phases = [("", {})]
    SETTINGS.append(
        f"{name}: one `dramatiq --processes 1 --threads 1` runs both, Dramatiq's default "
        "prefetch and middleware, log level INFO (Dramatiq's default; its per-message "
        "lines and the bridge's are DEBUG)"
    )
    for label, quiet in phases:
        with tempfile.TemporaryDirectory() as tmp:
            batches = throughput_batches(Path(tmp), n, plan)
            with foreign_worker(argv, {**env, **quiet}, "is ready for action"):
                measure = f"{name} worker: no-op jobs vs own no-op task{label}"
                found.append(worker_row(measure, n, batches))
    bridge_apps.drop_dramatiq_queue(broker, url, prefix)
    _restore(saved)
    return found


def _rows_of(found: list[dict[str, Any]]) -> list[Row]:
    """``bench/bridges_rq_huey.py``'s rows (dicts with each round) as this table's rows."""
    return [
        Row.of_rounds(f"{r['system']} {r['measure']}",
                      list(zip(r["bridge_rounds"], r["bridge_cpu_rounds"], strict=True)),
                      list(zip(r["native_rounds"], r["native_cpu_rounds"], strict=True)),
                      r["unit"], r["target"])
        for r in found
    ]  # fmt: skip


SYSTEMS: list[tuple[str, Callable[[int], list[Row]]]] = [
    ("celery", lambda n: measure_celery("redis", REDIS, n)),
    ("celery", lambda n: measure_celery("rabbitmq", RABBITMQ, n)),
    ("dramatiq", lambda n: measure_dramatiq("redis", REDIS, n)),
    ("dramatiq", lambda n: measure_dramatiq("rabbitmq", RABBITMQ, n)),
    ("rq", lambda n: _rows_of(bridges_rq_huey.measure_rq(jobs=n))),
    ("huey", lambda n: _rows_of(bridges_rq_huey.measure_huey(jobs=n))),
]
"""(system name for ``--only``, measure function taking the batch size)."""


def table(found: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| measure | ours | native | ratio | spread | CPU ratio (spread) | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in found:
        lines.append(f"| {row.measure} | {row.ours:,.0f} {row.unit} | {row.native:,.0f} "
                     f"{row.unit} | {row.ratio:.2f}x | {row.spread_text()} | "
                     f"{row.cpu_text()} | {row.target_text()} |")  # fmt: skip
    return "\n".join(lines)


def set_rounds(rounds: int) -> None:
    """Rounds per measure, here and in ``bench/bridges_rq_huey.py``."""
    global ROUNDS
    ROUNDS = rounds
    bridges_rq_huey.ROUNDS = rounds


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measures and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per batch (default 2000)")
    parser.add_argument(
        "--only", default="", help="comma-separated systems (celery,dramatiq,rq,huey)"
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds (default {ROUNDS})")
    args = parser.parse_args(argv)
    set_rounds(args.rounds)
    load_before = "/".join(f"{x:.1f}" for x in os.getloadavg())
    only = {s for s in args.only.split(",") if s}
    found: list[Row] = []
    for name, measure in SYSTEMS:
        if not only or name in only:
            found.extend(measure(args.jobs))
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"python {sys.version.split()[0]}, {args.jobs} jobs per batch, {ROUNDS} rounds "
        f"(ours and native alternating), load average {load_before} before, {load} after"
    )
    print(table(found))
    print()
    for line in [*SETTINGS, *bridges_rq_huey.SETTINGS]:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

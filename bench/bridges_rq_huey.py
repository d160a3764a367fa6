"""RQ and Huey: no-op jobs through the bridge against the system's own no-op task,
same worker, same settings, same run.

    .venv/bin/python bench/bridges_rq_huey.py            # a table, ~1 minute
    .venv/bin/python bench/bridges_rq_huey.py --jobs 500 --markdown

Each ``measure_*`` function returns rows (dicts: system, measure, bridge, native,
unit, ratio, target); :data:`MEASURES` lists them as ``(name, function)``.

- enqueue: ``perform_later`` one job at a time vs ``Queue.enqueue_call`` /
  calling the Huey task, both writing JSON;
- bulk (RQ): one ``perform_all_later`` vs one ``Queue.enqueue_many``;
- throughput: the real worker drains N jobs. RQ: ``rq worker --burst`` with
  ``SimpleWorker`` (one process, no fork per job), and RQ's default forking worker
  on fewer jobs with the job modules imported before it forks (``-c
  bridges_rq_settings``, which calls ``prepare_worker()``); timed from start to
  exit. Huey: ``huey_consumer -w 1`` (one thread, so the queue runs in order)
  timed from start until a last native task, enqueued after the batch, has stored
  its result; the same last task closes both rows.

Every row has :data:`ROUNDS` rounds, ours and native back to back in each, the
order alternating from one round to the next, an enqueue round in :data:`SLICES`
slices that the two take turns on (the machine is shared and noisy: the load of
the moment hits both); the rows carry every round (``bridge_rounds``,
``native_rounds``, and in CPU time ``bridge_cpu_rounds``, ``native_cpu_rounds``:
this process's for an enqueue, the worker's rusage for a drain) and
``bench/bridges.py`` reports medians and the spread.

Redis database 13 (``AJ_BENCH_REDIS_URL``), under names of this run only; the
keys are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

REDIS_URL = os.environ.get("AJ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
TARGET = 0.8
ROUNDS = 5
"""Rounds of each row; ``bench/bridges.py --rounds`` sets it."""
SETTINGS: list[str] = []
"""The worker settings of each system measured, printed under the table."""
BIN = Path(sys.executable).parent
Row = dict[str, Any]
Rate = tuple[float, float]
"""Jobs per second of wall-clock time, and per second of CPU time."""
Rounds = tuple[list[Rate], list[Rate]]
RQ_NOOP = "bridges_rq_huey_app.rq_noop"
"""The native RQ no-op task."""


def _row(system: str, measure: str, rounds: Rounds, unit: str = "jobs/s") -> Row:
    bridge_rounds = [wall for wall, _ in rounds[0]]
    native_rounds = [wall for wall, _ in rounds[1]]
    bridge, native = median(bridge_rounds), median(native_rounds)
    ratios = [b / n for b, n in zip(bridge_rounds, native_rounds, strict=True) if n]
    return {
        "system": system,
        "measure": measure,
        "bridge": bridge,
        "native": native,
        "bridge_rounds": bridge_rounds,
        "native_rounds": native_rounds,
        "bridge_cpu_rounds": [cpu for _, cpu in rounds[0]],
        "native_cpu_rounds": [cpu for _, cpu in rounds[1]],
        "unit": unit,
        "ratio": median(ratios) if ratios else float("nan"),
        "target": TARGET,
    }


def _children_cpu() -> float:
    """CPU seconds of this process's waited-for children so far (the workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SLICES = 8
"""Slices of each enqueue round: the kinds take turns slice by slice (ABBA), so a
burst of the host's noise longer than a slice (about 30 ms here) lands on every
kind of the round, not on whichever ran through it."""


def sliced_rates(n: int, kinds: dict[str, Callable[[list[int]], object]]) -> dict[str, list[Rate]]:
    """:data:`ROUNDS` rounds of each kind over ids ``0..n-1``, each round in
    :data:`SLICES` slices that the kinds take turns on; each kind's rate per round
    (wall clock, and this process's CPU time). ``bench/bridges.py`` uses it too."""
    rates: dict[str, list[Rate]] = {name: [] for name in kinds}
    size = max(1, n // SLICES)
    turn = 0
    for _ in range(ROUNDS):
        spent = {name: [0.0, 0.0] for name in kinds}  # wall, CPU seconds
        for start in range(0, n, size):
            ids = list(range(start, min(n, start + size)))
            for name in list(kinds) if turn % 2 == 0 else list(kinds)[::-1]:
                wall, cpu = time.perf_counter(), time.process_time()
                kinds[name](ids)
                spent[name][0] += time.perf_counter() - wall
                spent[name][1] += time.process_time() - cpu
            turn += 1
        for name, (wall, cpu) in spent.items():
            rates[name].append((n / wall, n / max(cpu, 1e-9)))
    return rates


def _pair(
    n: int, ours: Callable[[list[int]], object], theirs: Callable[[list[int]], object]
) -> Rounds:
    """Ours and native as :func:`sliced_rates` measures them."""
    rates = sliced_rates(n, {"ours": ours, "native": theirs})
    return rates["ours"], rates["native"]


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "src"), str(BENCH), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}


def measure_rq(jobs: int = 2000, forked_jobs: int = 200) -> list[Row]:
    """RQ: enqueue, bulk enqueue, and a burst worker's throughput, bridge vs native."""
    from bridges_rq_huey_app import BridgeNoopJob
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    import activejob
    from activejob.adapters.rq import RQAdapter

    redis = Redis.from_url(REDIS_URL)
    adapter = RQAdapter(redis)
    activejob.configure(adapter=adapter)
    run = uuid.uuid4().hex[:8]
    bridge_q, native_q = f"ajb_bridge_{run}", f"ajb_native_{run}"
    native = Queue(native_q, connection=redis, serializer=JSONSerializer)
    configured = BridgeNoopJob.set(queue=bridge_q)
    rows: list[Row] = []
    try:
        rows.append(_row("rq", f"enqueue {jobs} one by one", _pair(
            jobs,
            lambda ids: [configured.perform_later(i) for i in ids],
            lambda ids: [native.enqueue_call(RQ_NOOP, args=(i,)) for i in ids],
        )))  # fmt: skip

        def fill(n: int) -> None:
            for name in (bridge_q, native_q):
                Queue(name, connection=redis, serializer=JSONSerializer).empty()
            for i in range(n):
                configured.perform_later(i)
                native.enqueue_call(RQ_NOOP, args=(i,))

        simple = ["-w", "rq.worker.SimpleWorker"]
        rows.append(_row("rq", "throughput, SimpleWorker --burst", _drains(
            lambda: fill(jobs), lambda first: _rq_drain(jobs, [bridge_q, native_q], simple, first)
        )))  # fmt: skip
        rows.append(_row("rq", f"bulk enqueue {jobs}", _pair(
            jobs,
            lambda ids: activejob.perform_all_later(
                [BridgeNoopJob(i).set(queue=bridge_q) for i in ids]
            ),
            lambda ids: native.enqueue_many(
                [Queue.prepare_data(RQ_NOOP, args=(i,)) for i in ids]
            ),
        )))  # fmt: skip
        # The bulk jobs are dropped by fill(); then the forking worker on fewer. The
        # settings module readies the bridge and imports the job module (with RQ's own
        # no-op) in RQ's main process: the work horses inherit both.
        preload = ["-c", "bridges_rq_settings"]
        rows.append(_row("rq", f"throughput, forking worker -c ({forked_jobs} jobs)", _drains(
            lambda: fill(forked_jobs),
            lambda first: _rq_drain(forked_jobs, [bridge_q, native_q], preload, first),
            min(ROUNDS, 3),  # a fork per job: ~45 jobs/s
        )))  # fmt: skip
        SETTINGS.append(
            "rq: `rq worker --burst -q` (log level WARNING), JSON serializer, one worker per "
            "queue and batch, ours and native the same worker class; no Retry on either"
        )
    finally:
        for name in (bridge_q, native_q):
            queue = Queue(name, connection=redis, serializer=JSONSerializer)
            queue.empty()
            queue.delete(delete_jobs=True)
        adapter.shutdown()
    return rows


def _drains(
    fill: Callable[[], None],
    drain: Callable[[bool], tuple[Rate, Rate]],
    rounds: int | None = None,
) -> Rounds:
    """Fill-and-drain rounds (:data:`ROUNDS` unless given), alternating which queue
    drains first."""
    rates: Rounds = ([], [])
    for r in range(ROUNDS if rounds is None else rounds):
        fill()
        ours, theirs = drain(r % 2 == 1)
        rates[0].append(ours)
        rates[1].append(theirs)
    return rates


def _rq_drain(
    n: int, queues: list[str], worker_args: list[str], native_first: bool
) -> tuple[Rate, Rate]:
    """Each queue (filled with ``n`` jobs) drained by its own ``rq worker --burst``
    (``queues``: ours, native; drained in the other order if ``native_first``); a
    failed job stops the benchmark. CPU time: the worker's and its work horses'."""
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry
    from rq.serializers import JSONSerializer

    redis = Redis.from_url(REDIS_URL)
    rates: dict[str, Rate] = {}
    for queue in queues[::-1] if native_first else queues:
        command = [
            str(BIN / "rq"), "worker", "--burst", "-q", *worker_args,
            "--serializer", "rq.serializers.JSONSerializer", "-u", REDIS_URL, queue,
        ]  # fmt: skip
        env = _env(ACTIVEJOB_ADAPTER=f"rq:{REDIS_URL}", ACTIVEJOB_IMPORTS="bridges_rq_huey_app")
        started, cpu = time.perf_counter(), _children_cpu()
        subprocess.run(command, cwd=BENCH, env=env, check=True, stdout=subprocess.DEVNULL)
        rates[queue] = (n / (time.perf_counter() - started),
                        n / max(_children_cpu() - cpu, 1e-9))  # fmt: skip
        failed = FailedJobRegistry(queue, connection=redis, serializer=JSONSerializer)
        if failed.count or Queue(queue, connection=redis, serializer=JSONSerializer).count:
            raise RuntimeError(f"rq worker left {queue} with failed or queued jobs")
    return rates[queues[0]], rates[queues[1]]


def measure_huey(jobs: int = 2000) -> list[Row]:
    """Huey: enqueue and a one-thread consumer's throughput, bridge vs native."""
    name = f"ajb_{uuid.uuid4().hex[:8]}"
    os.environ["AJ_BENCH_HUEY_NAME"] = name
    os.environ["AJ_BENCH_REDIS_URL"] = REDIS_URL
    # Imported here, so the instance gets this run's name.
    import bridges_huey_app as app

    import activejob
    from activejob.adapters.huey import HueyAdapter

    activejob.configure(adapter=HueyAdapter(app.huey))
    rows: list[Row] = []
    try:
        rows.append(_row("huey", f"enqueue {jobs} one by one", _pair(
            jobs,
            lambda ids: [app.BridgeNoopJob.perform_later(i) for i in ids],
            lambda ids: [app.huey_noop(i) for i in ids],
        )))  # fmt: skip
        app.huey.flush()
        fills = (
            lambda: [app.BridgeNoopJob.perform_later(i) for i in range(jobs)],
            lambda: [app.huey_noop(i) for i in range(jobs)],
        )
        drained: Rounds = ([], [])
        for r in range(ROUNDS):
            for index in (0, 1) if r % 2 == 0 else (1, 0):
                fills[index]()
                drained[index].append(_huey_drain(app, jobs, name))
        rows.append(_row("huey", "throughput, huey_consumer -w 1", drained))
        SETTINGS.append(
            "huey: one `huey_consumer -w 1 -q` (one thread, log level WARNING) per batch, "
            "the same instance, JSON serializer and retries=0 for both"
        )
    finally:
        app.huey.flush()
    return rows


def _huey_drain(app: Any, n: int, name: str) -> Rate:
    """Wall clock from the consumer's start to the last task's result; CPU time of
    the consumer, start to exit (its start-up counts on both sides alike)."""
    last = app.huey_last()
    command = [str(BIN / "huey_consumer"), "bridges_huey_app.huey", "-w", "1", "-q"]
    env = _env(AJ_BENCH_HUEY_NAME=name, AJ_BENCH_REDIS_URL=REDIS_URL)
    started, cpu = time.perf_counter(), _children_cpu()
    consumer = subprocess.Popen(command, cwd=BENCH, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = started + 300
        while not app.huey.storage.has_data_for_key(last.id):
            if time.perf_counter() > deadline or consumer.poll() is not None:
                raise RuntimeError("the huey consumer did not drain the queue")
            time.sleep(0.002)  # sleep-ok: polling interval of the measurement
        elapsed = time.perf_counter() - started
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
    return n / elapsed, n / max(_children_cpu() - cpu, 1e-9)


MEASURES: list[tuple[str, Callable[..., list[Row]]]] = [
    ("rq", measure_rq),
    ("huey", measure_huey),
]
"""Each system's measurement, for ``bench/bridges.py``."""


def print_rows(rows: list[Row], markdown: bool) -> None:
    header = ["system", "measure", "bridge", "native", "unit", "ratio", "target"]
    lines = [header] + [
        [r["system"], r["measure"], f"{r['bridge']:,.0f}", f"{r['native']:,.0f}", r["unit"],
         f"{r['ratio']:.2f}x", f">={r['target']}x"]
        for r in rows
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
        print("| " + " | ".join(cells) + " |" if markdown else "  ".join(cells))
        if index == 0 and markdown:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--forked-jobs", type=int, default=200)
    parser.add_argument("--only", choices=["rq", "huey"])
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows: list[Row] = []
    if args.only in (None, "rq"):
        rows += measure_rq(args.jobs, args.forked_jobs)
    if args.only in (None, "huey"):
        rows += measure_huey(args.jobs)
    print_rows(rows, args.markdown)


if __name__ == "__main__":
    main()

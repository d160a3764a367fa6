"""What bounds the bridge rows: microseconds per job on each side, in this process.

    .venv/bin/python bench/bridge_costs.py                 # every system, ~1 minute
    .venv/bin/python bench/bridge_costs.py --only huey,rq

For each system, one enqueue at a time, rounds alternating (ABC, CBA, ...):
``perform_later`` through the bridge ("ours"), the system's own no-op task
("native"), and that task carrying our payload as its one argument, in the
compact form the bridges send ("native + payload": the foreign system's cost of
our bigger message, without activejob's job layer). Each figure is CPU time of
this process per job (``process_time``, which another process's load disturbs far
less than wall time), with wall time beside it. Then activejob's own per-job
costs with no broker at all: ``perform_later`` onto an adapter that only
serializes, and ``activejob.execute``
of a payload (what the bridge's task adds in the foreign worker) with the
``activejob`` logger at WARNING and at INFO into a ``/dev/null`` handler.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

import bridge_apps  # noqa: E402

import activejob  # noqa: E402
from activejob.adapters.base import Adapter  # noqa: E402
from activejob.adapters.bridge import message_payload  # noqa: E402
from activejob.job.execution import execute  # noqa: E402

REDIS = os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("ACTIVEJOB_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
RQ_REDIS = os.environ.get("AJ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
Sides = dict[str, Callable[[int], object]]


def per_job(fns: Sides, n: int, rounds: int) -> dict[str, tuple[float, float]]:
    """(CPU µs, wall µs) per call of each, medians of alternating rounds."""
    for fn in fns.values():
        for i in range(50):
            fn(i)
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(n):
                fns[name](i)
            found[name].append(
                ((time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6)
            )
    return {k: (median(c for c, _ in v), median(w for _, w in v)) for k, v in found.items()}


def _payload() -> dict[str, Any]:
    job = bridge_apps.BridgeNoopJob(1)
    job.enqueued_at = activejob._time.utcnow()
    return message_payload(job)


def celery_sides(url: str) -> tuple[Sides, Callable[[], None]]:
    prefix = f"ajcost_{uuid.uuid4().hex[:8]}"
    app, noop, _marker = bridge_apps.celery_app(url, prefix)
    payload = _payload()
    job = bridge_apps.BridgeNoopJob

    def cleanup() -> None:
        bridge_apps.drop_celery_queue(app, url, prefix)

    return {
        "ours": lambda i: job.perform_later(i),
        "native": lambda i: noop.delay(i),
        "native + payload": lambda i: noop.apply_async((payload,), argsrepr="(payload)"),
    }, cleanup


def dramatiq_sides(url: str) -> tuple[Sides, Callable[[], None]]:
    prefix = f"ajcost_{uuid.uuid4().hex[:8]}"
    if url.endswith("//"):
        url = url[:-1] + "%2F"
    broker, noop, _marker = bridge_apps.dramatiq_broker(url, prefix)
    payload = _payload()
    job = bridge_apps.BridgeNoopJob

    def cleanup() -> None:
        bridge_apps.drop_dramatiq_queue(broker, url, prefix)

    return {
        "ours": lambda i: job.perform_later(i),
        "native": lambda i: noop.send(i),
        "native + payload": lambda i: noop.send(payload),
    }, cleanup


def rq_sides() -> tuple[Sides, Callable[[], None]]:
    from bridges_rq_huey_app import BridgeNoopJob
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    from activejob.adapters.rq import RQAdapter

    redis = Redis.from_url(RQ_REDIS)
    activejob.configure(adapter=RQAdapter(redis), queue_name_prefix=None)
    run = uuid.uuid4().hex[:8]
    ours_q, native_q = f"ajcost_bridge_{run}", f"ajcost_native_{run}"
    native = Queue(native_q, connection=redis, serializer=JSONSerializer)
    configured = BridgeNoopJob.set(queue=ours_q)
    job = BridgeNoopJob(1)
    job.enqueued_at = activejob._time.utcnow()
    payload = message_payload(job)
    noop = "bridges_rq_huey_app.rq_noop"

    def cleanup() -> None:
        for name in (ours_q, native_q):
            queue = Queue(name, connection=redis, serializer=JSONSerializer)
            queue.empty()
            queue.delete(delete_jobs=True)
        redis.close()

    return {
        "ours": lambda i: configured.perform_later(i),
        "native": lambda i: native.enqueue_call(noop, args=(i,)),
        "native + payload": lambda i: native.enqueue_call(
            noop, args=(payload,), description="payload"
        ),
    }, cleanup


def huey_sides() -> tuple[Sides, Callable[[], None]]:
    os.environ["AJ_BENCH_HUEY_NAME"] = f"ajcost_{uuid.uuid4().hex[:8]}"
    os.environ["AJ_BENCH_REDIS_URL"] = RQ_REDIS
    import bridges_huey_app as app

    from activejob.adapters.huey import HueyAdapter

    activejob.configure(adapter=HueyAdapter(app.huey), queue_name_prefix=None)
    job = app.BridgeNoopJob(1)
    job.enqueued_at = activejob._time.utcnow()
    payload = message_payload(job)
    return {
        "ours": lambda i: app.BridgeNoopJob.perform_later(i),
        "native": lambda i: app.huey_noop(i),
        "native + payload": lambda i: app.huey_noop(payload),
    }, app.huey.flush


SYSTEMS: list[tuple[str, str, Callable[[], tuple[Sides, Callable[[], None]]]]] = [
    ("celery", "celery/redis", lambda: celery_sides(REDIS)),
    ("celery", "celery/rabbitmq", lambda: celery_sides(RABBITMQ)),
    ("dramatiq", "dramatiq/redis", lambda: dramatiq_sides(REDIS)),
    ("dramatiq", "dramatiq/rabbitmq", lambda: dramatiq_sides(RABBITMQ)),
    ("rq", "rq", rq_sides),
    ("huey", "huey", huey_sides),
]


class SerializeOnly(Adapter):
    """An adapter that only builds the payload: activejob's enqueue path alone."""

    scheme = "serialize-only"

    def enqueue(self, job: Any) -> None:
        job.serialize()

    def enqueue_at(self, job: Any, timestamp: float) -> None:
        job.serialize()


def core_costs(n: int, rounds: int) -> list[tuple[str, float]]:
    """activejob's own µs per job, no broker: enqueue path, and execute()."""
    activejob.configure(adapter=SerializeOnly(), queue_name_prefix=None)
    job = bridge_apps.BridgeNoopJob
    payload = _payload()
    found = [("perform_later onto an adapter that only serializes", job.perform_later)]
    rows = [(label, per_job({"x": fn}, n, rounds)["x"][0]) for label, fn in found]
    log = logging.getLogger("activejob")
    saved_level, saved_propagate = log.level, log.propagate
    run_payload: Callable[[int], object] = lambda i: execute(payload)  # noqa: E731
    log.setLevel(logging.WARNING)
    quiet = per_job({"x": run_payload}, n, rounds)["x"][0]
    rows.append(("execute(payload), activejob logger at WARNING", quiet))
    with open(os.devnull, "w") as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(levelname)s] %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        try:
            loud = per_job({"x": run_payload}, n, rounds)["x"][0]
            rows.append(("execute(payload), INFO lines into a /dev/null handler", loud))
        finally:
            log.removeHandler(handler)
            log.setLevel(saved_level)
            log.propagate = saved_propagate
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000, help="calls per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--only", default="", help="comma-separated systems")
    args = parser.parse_args(argv)
    only = {s for s in args.only.split(",") if s}
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"python {sys.version.split()[0]}, {args.jobs} calls x {args.rounds} rounds, "
          f"load average {load}; CPU µs per enqueue (wall µs)")  # fmt: skip
    print("| system | ours | native | native + payload | native / ours, CPU (wall) |")
    print("|---|---:|---:|---:|---:|")
    for name, label, sides in SYSTEMS:
        if only and name not in only:
            continue
        fns, cleanup = sides()
        try:
            got = per_job(fns, args.jobs, args.rounds)
        finally:
            cleanup()
        cells = " | ".join(f"{cpu:.0f} ({wall:.0f})" for cpu, wall in got.values())
        ours, native = got["ours"], got["native"]
        print(f"| {label} | {cells} | {native[0] / ours[0]:.2f} ({native[1] / ours[1]:.2f}) |",
              flush=True)  # fmt: skip
    print()
    print("| activejob alone, no broker | CPU µs per job |")
    print("|---|---:|")
    for label, cpu in core_costs(args.jobs * 5, args.rounds):
        print(f"| {label} | {cpu:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

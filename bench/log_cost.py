"""What the per-job log lines cost: CPU per job in one process, and worker throughput.

``cpu``: runs no-op jobs through ``run(payload, adapter=...)`` on one thread of
this process, with the worker's own log output (:mod:`activejob.worker.logsink`,
the worker's line format, written to ``/dev/null``), at ``INFO`` and at
``WARNING`` in interleaved rounds (payloads as a worker reads them, with their
``enqueued_at``). It prints the CPU per job of the job thread
(``time.thread_time``) and of the whole process (``time.process_time``, the
writer thread included, measured until every line is written)::

    .venv/bin/python bench/log_cost.py cpu
    .venv/bin/python bench/log_cost.py cpu --compare /work/main/src   # A/B, interleaved

With ``--compare SRC`` every round runs twice, in a child process each: once
with this tree's ``src`` and once with ``SRC`` first on ``PYTHONPATH``.

``count LEVEL N``: the same jobs for ``valgrind --tool=callgrind`` (instructions,
not time: steady on a busy machine); run it with ``N`` and with ``0`` and divide
the difference by ``N``::

    PYTHONPATH=src valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python bench/log_cost.py count INFO 2000

``workers``: ``activejob worker`` throughput at ``INFO`` against ``WARNING`` for
no-op jobs and one-round-trip I/O jobs on each durable backend, interleaved
(WARNING, INFO, WARNING, INFO, ...); prints the median ratio and its range, and
the CPU per job of the worker's processes (start-up included: the same at both
levels, so the difference is what INFO costs)::

    .venv/bin/python bench/log_cost.py workers --backends sqlite,postgresql,mysql,redis
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
FORMAT = f"%(asctime)s [{os.getpid()}] %(levelname)s %(name)s: %(message)s"
"""The worker's line format (``worker/child.py`` writes its pid in literally)."""


def cpu_round(level: str, n: int) -> dict[str, float]:
    """One round in this process: µs of CPU per job, job thread and process."""
    import logging

    from bench_jobs import NoopJob

    import activejob
    from activejob.adapters.cache import resolve_adapter
    from activejob.job.execution import run
    from activejob.worker import logsink

    devnull = open(os.devnull, "w")  # noqa: SIM115
    logsink.start(getattr(logging, level), FORMAT, devnull)
    adapter = resolve_adapter("async:")
    activejob.configure(adapter=adapter)
    # As a worker reads them: enqueued a moment ago (the Performing line shows the time).
    enqueued = datetime.now(timezone.utc)
    payloads = []
    for i in range(n):
        at = enqueued + timedelta(microseconds=i)
        payloads.append(dict(NoopJob(i).serialize(), enqueued_at=at.isoformat()))
    for payload in payloads[:200]:  # warm up: the first record, caches
        run(payload, adapter=adapter)
    sink = logsink._sink
    assert sink is not None
    pending = sink._writer.records.pending
    while pending:
        time.sleep(0.005)  # sleep-ok: waits for the warm-up lines to be written
    cpu, thread = time.process_time(), time.thread_time()
    for payload in payloads:
        run(payload, adapter=adapter)
    job_thread = time.thread_time() - thread
    logsink.stop()  # writes what is left, so the writer's share is counted
    process = time.process_time() - cpu
    return {"job_thread": job_thread / n * 1e6, "process": process / n * 1e6}


def count_round(level: str, n: int) -> None:
    """``n`` no-op jobs at ``level`` after a warm-up, every line written: run it under
    ``valgrind --tool=callgrind`` with ``n`` and with 0; the difference over ``n`` is
    the instructions a job costs (all threads)."""
    import logging

    from bench_jobs import NoopJob

    import activejob
    from activejob.adapters.cache import resolve_adapter
    from activejob.job.execution import run
    from activejob.worker import logsink

    devnull = open(os.devnull, "w")  # noqa: SIM115
    adapter = resolve_adapter("async:")
    activejob.configure(adapter=adapter)
    enqueued = datetime.now(timezone.utc).isoformat()
    payloads = [dict(NoopJob(i).serialize(), enqueued_at=enqueued) for i in range(n + 50)]
    for payloads_now in (payloads[:50], payloads[50:]):  # the warm-up, then what is counted
        logsink.start(getattr(logging, level), FORMAT, devnull)
        for payload in payloads_now:
            run(payload, adapter=adapter)
        logsink.stop()


def _child(src: Path, level: str, n: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), str(BENCH)]))
    done = subprocess.run(
        [sys.executable, __file__, "cpu-round", level, str(n)],
        env=env, capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} ({min(values):.1f}-{max(values):.1f})"


def cpu(rounds: int, n: int, compare: Path | None) -> None:
    trees = {"this tree": ROOT / "src"}
    if compare is not None:
        trees["other"] = compare
    found: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(rounds):
        for level in ("WARNING", "INFO"):
            for name, src in trees.items():
                found.setdefault((name, level), []).append(_child(src, level, n))
    print(f"no-op jobs, {n} a round, {rounds} rounds interleaved; µs CPU per job,")
    print(f"median (min-max); load average {os.getloadavg()[0]:.2f}")
    print(f"{'tree':10} {'level':8} {'job thread':>22} {'process':>22}")
    for (name, level), runs in found.items():
        print(
            f"{name:10} {level:8} {_summary([r['job_thread'] for r in runs]):>22} "
            f"{_summary([r['process'] for r in runs]):>22}"
        )
    for name in trees:
        info, warn = found[(name, "INFO")], found[(name, "WARNING")]
        for key in ("job_thread", "process"):
            extra = [i[key] - w[key] for i, w in zip(info, warn, strict=True)]
            print(f"{name}: INFO minus WARNING, {key}: {_summary(extra)} µs/job")


@contextlib.contextmanager
def backend(name: str) -> Iterator[str]:
    """The URL of an empty store of backend ``name``, private to this run (the
    servers are shared: a scratch database or key prefix of its own), removed after."""
    tag = f"ajlog{os.getpid()}"
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/jobs.sqlite3"
    elif name == "postgresql":
        import psycopg

        server = os.environ.get("ACTIVEJOB_TEST_POSTGRESQL_URL", "postgresql://127.0.0.1:5432/test")
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {tag}")
        try:
            yield server.rsplit("/", 1)[0] + f"/{tag}"
        finally:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {tag} WITH (FORCE)")
    elif name == "mysql":
        import MySQLdb

        def admin(statement: str) -> None:
            conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
            try:
                conn.cursor().execute(statement)
            finally:
                conn.close()

        admin(f"CREATE DATABASE `{tag}`")
        try:
            yield f"mysql://root@127.0.0.1:3306/{tag}"
        finally:
            admin(f"DROP DATABASE IF EXISTS `{tag}`")
    elif name == "redis":
        import redis

        server = os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        try:
            yield f"{server}?prefix={tag}"
        finally:
            with redis.Redis.from_url(server) as client:
                keys = list(client.scan_iter(match=f"{tag}:*", count=1000))
                for i in range(0, len(keys), 500):
                    client.delete(*keys[i : i + 500])
    else:
        raise SystemExit(f"unknown backend {name!r}")


def worker_rates(backends: list[str], bodies: list[str], rounds: int, n: int,
                 compare: Path | None) -> None:  # fmt: skip
    """Worker throughput at INFO and WARNING, interleaved, per backend and body."""
    import activejob
    from activejob.adapters.cache import reset_adapters
    from activejob.adapters.durable import storage_of

    trees = {"this tree": ROOT}
    if compare is not None:
        trees["other"] = compare.resolve().parent
    print(f"activejob worker, 1 process, 5 threads, {n} jobs a run, {rounds} rounds;")
    print("jobs/s median (min-max), ratio INFO/WARNING per round: median (min-max)")
    for name in backends:
        with backend(name) as url:
            activejob.configure(adapter=url)
            storage = storage_of(url)
            storage.migrate()
            try:
                for body in bodies:
                    _body_rates(name, url, storage, body, trees, rounds, n)
            finally:
                reset_adapters(wait=True)


def _body_rates(name: str, url: str, storage: Any, body: str, trees: dict[str, Path],
                rounds: int, n: int) -> None:  # fmt: skip
    import bench_jobs
    import workers

    job = {"no-op": bench_jobs.NoopJob, **bench_jobs.BODIES}[body]
    rates: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for tree, root in trees.items():
            workers.ROOT = root  # the worker runs that tree's src
            for level in ("WARNING", "INFO"):
                before = _children_cpu()
                rates.setdefault((tree, level), []).append(
                    workers.throughput(url, storage, n, 1, level, job)[0]
                )
                cpu.setdefault((tree, level), []).append((_children_cpu() - before) / n * 1e6)
    workers.ROOT = ROOT
    for tree in trees:
        warn, info = rates[(tree, "WARNING")], rates[(tree, "INFO")]
        ratios = [i / w for i, w in zip(info, warn, strict=True)]
        quiet, logged = cpu[(tree, "WARNING")], cpu[(tree, "INFO")]
        extra = [i - w for i, w in zip(logged, quiet, strict=True)]
        print(
            f"{name:10} {body:10} {tree:9} WARNING {_rate(warn)}  INFO {_rate(info)}  "
            f"INFO/WARNING {_ratio(ratios)}  worker CPU {statistics.median(quiet):.0f} µs/job, "
            f"INFO +{statistics.median(extra):.1f}  load {os.getloadavg()[0]:.2f}",
            flush=True,
        )


def _children_cpu() -> float:
    """CPU seconds of every ended child process and, through their own waits, their
    descendants (the worker's supervisor and its worker processes, once stopped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _rate(values: list[float]) -> str:
    return f"{statistics.median(values):6,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def _ratio(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("cpu-round")
    one.add_argument("level")
    one.add_argument("n", type=int)
    counted = sub.add_parser("count", help="for callgrind: n jobs at a level, see count_round")
    counted.add_argument("level")
    counted.add_argument("n", type=int)
    many = sub.add_parser("cpu")
    many.add_argument("--rounds", type=int, default=5)
    many.add_argument("-n", type=int, default=20_000)
    many.add_argument("--compare", type=Path, help="another tree's src/ to run beside")
    rates = sub.add_parser("workers")
    rates.add_argument("--backends", default="sqlite,postgresql,mysql,redis")
    rates.add_argument("--bodies", default="no-op,Redis GET", help="also: PG query, 1 ms sleep")
    rates.add_argument("--rounds", type=int, default=3)
    rates.add_argument("-n", type=int, default=5000)
    rates.add_argument("--compare", type=Path, help="another tree's src/ to run beside")
    args = parser.parse_args()
    if args.mode == "count":
        count_round(args.level, args.n)
    elif args.mode == "cpu-round":
        print(json.dumps(cpu_round(args.level, args.n)))
    elif args.mode == "cpu":
        cpu(args.rounds, args.n, args.compare)
    else:
        worker_rates(args.backends.split(","), args.bodies.split(","), args.rounds, args.n,
                     args.compare)  # fmt: skip


if __name__ == "__main__":
    main()

"""Claims with a rate limit that never bites, over 100 keys, vs the same claims of
unlimited jobs, in the same run per backend (issue 13: report the ratio; aim >= 0.5x).

    .venv/bin/python bench/flow_rate.py                      # every backend
    .venv/bin/python bench/flow_rate.py --backends sqlite,redis --jobs 2000

Each measure is the storage's claim-50/complete-50 loop on one thread (as the
``storage claim/complete loop`` row of ``bench/run.py``): ``n`` jobs pushed, then
claimed and completed until none is left. The limited jobs carry
``rate_limit(10**9, per=60 s)`` over 100 keys (round robin), so every window has
room and the figure is the cost of enforcing the limit, not of waiting. Servers
come from the same variables and defaults as ``bench/run.py``; a scratch database
(``activejob_bench_rate``) or key prefix is made and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

from bench_jobs import QUEUE, NoopJob  # noqa: E402

from activejob.adapters.cache import reset_adapters  # noqa: E402
from activejob.adapters.durable import storage_of  # noqa: E402
from activejob.flow.rate import StoredLimit, encode_limits  # noqa: E402
from activejob.storage.base import JobFilter, JobState, NewJob, Result, Storage  # noqa: E402

KEYS = 100
TARGET = 0.5
"""Claims of rate-limited jobs (a limit that never bites) vs unlimited ones."""
SCRATCH = "activejob_bench_rate"

Measure = tuple[str, float, float | None, str, float | None]
"""(measure, ours, baseline, unit, target): the fields of ``bench/run.py``'s ``Row``."""


def _jobs(n: int, limited: bool) -> list[NewJob]:
    payload = json.dumps(NoopJob(0).serialize())
    jobs = []
    for i in range(n):
        limits = encode_limits([StoredLimit(f"key-{i % KEYS}", 10**9, 60.0)]) if limited else None
        jobs.append(
            NewJob(f"rate-{i}", NoopJob.job_class_name, QUEUE, 0, payload, rate_limits=limits)
        )
    return jobs


def claim_rate(storage: Storage, n: int, limited: bool, batch: int = 50) -> float:
    """Jobs per second claimed and completed, ``batch`` per round trip."""
    jobs = _jobs(n, limited)
    for start in range(0, n, 5000):
        storage.push(jobs[start : start + 5000])
    done = 0
    started = time.perf_counter()
    while claimed := storage.claim("bench-rate", [QUEUE], batch):
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
        done += len(claimed)
    rate = n / (time.perf_counter() - started)
    if done != n:
        raise RuntimeError(f"claimed {done} of {n} jobs")
    storage.discard(JobFilter(queue_name=QUEUE))
    storage.prune(0)
    return rate


def measure(name: str, url: str, n: int, repeat: int = 3) -> list[Measure]:
    """Both loops on ``url``, alternated ``repeat`` times; the best of each."""
    storage = storage_of(url)
    storage.migrate()
    try:
        plain: list[float] = []
        limited: list[float] = []
        for _ in range(repeat):
            plain.append(claim_rate(storage, n, limited=False))
            limited.append(claim_rate(storage, n, limited=True))
    finally:
        reset_adapters(wait=True)
    return [
        (
            f"{name} claims, rate limit that never bites (100 keys) vs none",
            max(limited),
            max(plain),
            "jobs/s",
            TARGET,
        )
    ]


@contextmanager
def _scratch(backend: str, server: str) -> Iterator[str]:
    """An empty store for ``backend`` on ``server``, as an adapter URL."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{os.path.join(tmp, 'jobs.sqlite3')}"
        return
    if backend == "redis":
        prefix = f"bench-rate-{uuid.uuid4().hex[:8]}"
        sep = "&" if "?" in server else "?"
        yield f"{server}{sep}prefix={prefix}"
        import redis

        client = redis.Redis.from_url(server)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for i in range(0, len(keys), 1000):
            client.delete(*keys[i : i + 1000])
        client.close()
        return
    parts = urlsplit(server)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{SCRATCH}", parts.query, ""))
    drop, create = _admin(backend, server)
    drop()
    create()
    try:
        yield url
    finally:
        drop()


def _admin(backend: str, server: str) -> tuple[Callable[[], None], Callable[[], None]]:
    if backend == "postgresql":
        import psycopg

        def pg(statement: str) -> Callable[[], None]:
            def run() -> None:
                with psycopg.connect(server, autocommit=True) as admin:
                    admin.execute(statement)  # type: ignore[arg-type]

            return run

        drop = pg(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        return drop, pg(f"CREATE DATABASE {SCRATCH}")
    import MySQLdb

    parts = urlsplit(server)

    def my(statement: str) -> Callable[[], None]:
        def run() -> None:
            conn = MySQLdb.connect(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 3306,
                user=parts.username or "root",
                password=parts.password or "",
                autocommit=True,
            )
            try:
                conn.cursor().execute(statement)
            finally:
                conn.close()

        return run

    return my(f"DROP DATABASE IF EXISTS `{SCRATCH}`"), my(f"CREATE DATABASE `{SCRATCH}`")


def rows(backends: list[str], servers: dict[str, str], n: int) -> list[Measure]:
    """The rows for ``bench/run.py``: one per backend in ``backends``."""
    out: list[Measure] = []
    for backend in backends:
        with _scratch(backend, servers.get(backend, "")) as url:
            out += measure(backend, url, n)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql,mysql,redis")
    parser.add_argument("--jobs", type=int, default=5000)
    args = parser.parse_args()
    servers = {
        "postgresql": os.environ.get(
            "ACTIVEJOB_TEST_POSTGRESQL_URL", "postgresql://127.0.0.1:5432/test"
        ),
        "mysql": os.environ.get("ACTIVEJOB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
        "redis": os.environ.get("ACTIVEJOB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(f"{'measure':<62} {'ours':>10} {'baseline':>10} {'ratio':>6}  target")
    for measure_, ours, base, unit, target in rows(backends, servers, args.jobs):
        ratio = ours / base if base else 0.0
        verdict = "met" if target is not None and ratio >= target else "MISSED"
        print(f"{measure_:<62} {ours:>10,.0f} {base or 0:>10,.0f} {ratio:>6.2f}  "
              f">= {target}x {verdict} ({unit})")  # fmt: skip


if __name__ == "__main__":
    main()

"""The jobs the benchmarks run. Worker processes import this module by name
(``--import bench_jobs``, with ``bench/`` on ``PYTHONPATH``), so its job classes
are the same in the benchmark and in the workers."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

from activejob import Job

QUEUE = "bench"
_sender: socket.socket | None = None
_local = threading.local()
REDIS_IO = "BENCH_REDIS_IO"
PG_IO = "BENCH_PG_IO"
"""The environment variables that name the servers the I/O jobs talk to (set by
``bench/run.py`` from its ``--redis`` / ``--postgresql``; the test suite's
servers otherwise)."""


class NoopJob(Job):
    """Does nothing: what is measured is the job system around it."""

    queue_as = QUEUE

    def perform(self, n: int) -> None:
        pass


class LatencyJob(Job):
    """Reports, in one UDP datagram to ``port`` on localhost, how late it started:
    now minus ``since`` (the enqueue time, or the time it was due)."""

    queue_as = QUEUE

    def perform(self, port: int, since: float) -> None:
        global _sender
        now = time.time()
        if _sender is None:
            _sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _sender.sendto(repr(now - since).encode(), ("127.0.0.1", port))


class AsyncNoopJob(Job):
    """:class:`NoopJob` with an ``async def perform``."""

    queue_as = QUEUE

    async def perform(self, n: int) -> None:
        pass


class SleepJob(Job):
    """Sleeps 1 ms: a job thread that waits, as one waiting on I/O does."""

    queue_as = QUEUE

    def perform(self, n: int) -> None:
        time.sleep(0.001)  # sleep-ok: the job body being measured


class RedisIOJob(Job):
    """One Redis round trip (``GET``) on the job thread's own connection."""

    queue_as = QUEUE

    def perform(self, n: int) -> None:
        client: Any = getattr(_local, "redis", None)
        if client is None:
            import redis

            url = os.environ.get(REDIS_IO, "redis://127.0.0.1:6379/0")
            client = _local.redis = redis.Redis.from_url(url)
        client.get("activejob-bench-io")


class PgIOJob(Job):
    """One PostgreSQL query (``SELECT 1``) on the job thread's own connection."""

    queue_as = QUEUE

    def perform(self, n: int) -> None:
        conn: Any = getattr(_local, "pg", None)
        if conn is None:
            import psycopg

            url = os.environ.get(PG_IO, "postgresql://127.0.0.1:5432/test")
            conn = _local.pg = psycopg.connect(url, autocommit=True)
        conn.execute("SELECT 1").fetchone()


BODIES: dict[str, type[Job]] = {
    "1 ms sleep": SleepJob,
    "Redis GET": RedisIOJob,
    "PG query": PgIOJob,
}
"""The real job bodies of the benchmark's rows, beside :class:`NoopJob`."""

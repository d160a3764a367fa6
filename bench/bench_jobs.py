"""The jobs the benchmarks run. Worker processes import this module by name
(``--import bench_jobs``, with ``bench/`` on ``PYTHONPATH``), so its job classes
are the same in the benchmark and in the workers."""

from __future__ import annotations

import socket
import time

from activejob import Job

QUEUE = "bench"
_sender: socket.socket | None = None


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

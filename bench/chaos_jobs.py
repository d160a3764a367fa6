"""The jobs the chaos and soak runs execute. Worker processes import this module by
name (``--import chaos_jobs``, with ``bench/`` on ``PYTHONPATH``).

Each run of a :class:`LedgerJob` appends one line to a ledger file *outside* the
queue store: ``job_id pid executions started_at``, in one ``write`` to a file opened
with ``O_APPEND`` (so lines from many processes never interleave, and a ``kill -9``
leaves either the whole line or none). The ledger is what the job's side effect
was; the store is what the queue believes. Comparing the two finds lost jobs and
duplicates.
"""

from __future__ import annotations

import asyncio
import os
import time

from activejob import Job

QUEUE = "chaos"


def append_run(ledger: str, job_id: str, executions: int) -> None:
    """Append this run of ``job_id`` to ``ledger``, atomically."""
    line = f"{job_id} {os.getpid()} {executions} {time.time():.6f}\n".encode()
    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class LedgerJob(Job):
    """Records its run in the ledger, then works ``work`` seconds (so runs are in
    flight when a worker is killed)."""

    queue_as = QUEUE

    def perform(self, ledger: str, work: float) -> None:
        append_run(ledger, self.job_id, self.executions)
        if work:
            time.sleep(work)  # sleep-ok: the job's stand-in for real work


class AsyncLedgerJob(Job):
    """:class:`LedgerJob` with an ``async def perform``, run on the event loop."""

    queue_as = QUEUE

    async def perform(self, ledger: str, work: float) -> None:
        append_run(ledger, self.job_id, self.executions)
        if work:
            await asyncio.sleep(work)


_counters: dict[str, int] = {}


class SoakJob(Job):
    """Next to nothing: appends one byte to ``counter`` (a descriptor kept open per
    process), so the soak run reads its progress from the file's size instead of
    asking the store, which would load the server it measures."""

    queue_as = "soak"

    def perform(self, counter: str) -> None:
        fd = _counters.get(counter)
        if fd is None:
            fd = _counters[counter] = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, b".")

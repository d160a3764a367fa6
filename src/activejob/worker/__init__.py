"""The worker: claims jobs from a durable backend and runs them.

``activejob worker`` (or :class:`Worker` from Python) runs a supervisor with
worker processes; each process has a fetcher that claims batches, threads for
sync jobs and one event loop for ``async def`` jobs, an acker that records
results in batches, and a heartbeat. See ``docs/worker.md``.

Example::

    from activejob.worker import Worker

    Worker("sqlite:///jobs.sqlite3", queues="critical,default,*").run(burst=True)
"""

from __future__ import annotations

from activejob.worker.api import Worker
from activejob.worker.options import WorkerOptions

__all__ = ["Worker", "WorkerOptions"]

"""``activejob.status(job_id)``: where a stored job is — state, attempts, timestamps and
its last error.

It asks the storage of the configured adapter (or the one given), so it works
for durable backends only (``sqlite:``, ``postgresql:``, ``redis:``, ...); any
other adapter raises :class:`~activejob.ConfigurationError`. A job that was
never stored, or pruned since, gives ``None``.

Example::

    job = ReportJob.perform_later(42)
    info = activejob.status(job.job_id)        # or activejob.status(job)
    info.state, info.attempts, info.finished_at, info.error
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from activejob.adapters.durable import storage_of
from activejob.job.core import JobCore
from activejob.storage.base import JobInfo

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter

__all__ = ["status"]


def status(job: str | JobCore, *, adapter: str | Adapter | None = None) -> JobInfo | None:
    """The stored record of ``job`` (a ``job_id``, or a job instance) or ``None``.

    ``adapter`` (a URL or instance) overrides the configured adapter; for a job
    instance the default is the adapter that job enqueues through.
    """
    if isinstance(job, JobCore):
        job_id = job.job_id
        if adapter is None:
            adapter = getattr(type(job), "queue_adapter", None)
    else:
        job_id = job
    storage = storage_of(adapter)
    if not storage.exists():  # a SQLite file not made yet holds no job: don't create it
        return None
    return storage.get(job_id)

"""``activejob.cancel(job_id)``: stop a job, whether it waits or runs (DESIGN §8).

A waiting job (scheduled, ready, blocked) is discarded at once, with a
:class:`~activejob.JobCancelled` error. A running one is asked to stop: its
worker hears of it through the backend's wake-up channel (PostgreSQL ``NOTIFY``,
Redis Pub/Sub) or, on SQLite and MySQL, within a heartbeat interval; an
``async def`` job's task is then cancelled, a sync job raises ``JobCancelled``
at its next ``self.checkpoint()``, and the job ends ``discarded`` with that
error, whatever its rules say. If its worker dies first, recovery discards it
instead of running it again. A finished job is left as it is.

Works on the durable backends (the storage of the configured adapter, or the one
given); an unknown id raises :class:`~activejob.JobNotFound`.

Example::

    job = ExportJob.perform_later(42)
    activejob.cancel(job.job_id).outcome      # 'discarded', 'requested' or 'finished'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from activejob.adapters.durable import storage_of
from activejob.job.core import JobCore
from activejob.storage.base import Cancellation

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter

__all__ = ["Cancellation", "cancel"]


def cancel(job: str | JobCore, *, adapter: str | Adapter | None = None) -> Cancellation:
    """Cancel ``job`` (a ``job_id``, or a job instance); returns what was done
    (:class:`~activejob.storage.base.Cancellation`: ``outcome`` is
    ``"discarded"``, ``"requested"`` or ``"finished"``).

    ``adapter`` (a URL or instance) overrides the configured adapter; for a job
    instance the default is the adapter that job enqueues through. Raises
    :class:`~activejob.JobNotFound` when no stored job has that id, and
    :class:`~activejob.ConfigurationError` for a backend that keeps no jobs.

    Example::

        activejob.cancel("0b6c2f1e-4c1d-4a8e-9d51-2f7a3c9e8b10")
    """
    if isinstance(job, JobCore):
        job_id = job.job_id
        if adapter is None:
            adapter = getattr(type(job), "queue_adapter", None)
    else:
        job_id = job
    return storage_of(adapter).cancel(job_id)

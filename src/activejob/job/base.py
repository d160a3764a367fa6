"""``Job``: assembled from one-concern modules, adding nothing of its own."""

from __future__ import annotations

from activejob.job.enqueuing import Enqueuing
from activejob.job.execution import Execution


class Job(Enqueuing, Execution):
    """Base class of every job: subclass it and define ``perform``.

    Example::

        class GuestsCleanupJob(Job):
            queue_as = "cleanup"
            priority = 10

            def perform(self, guest_id: int, *, depth: int = 1) -> None: ...

        GuestsCleanupJob.perform_later(42)
        GuestsCleanupJob.set(wait=timedelta(weeks=1)).perform_later(42)
        GuestsCleanupJob.perform_now(42)
    """

    log_arguments: bool = True
    """Set ``False`` to keep this job's arguments out of log lines."""

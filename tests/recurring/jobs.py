"""Jobs the recurring tests schedule (importable, as a worker needs them)."""

from __future__ import annotations

from activejob import Job, job


class CleanupJob(Job):
    queue_as = "maintenance"

    def perform(self, days: int, *, dry_run: bool = False) -> None:
        pass


@job(queue_as="feeds")
def poll_feeds() -> None:
    pass

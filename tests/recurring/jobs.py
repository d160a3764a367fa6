"""Jobs the recurring tests schedule (importable, as a worker needs them)."""

from __future__ import annotations

from datetime import timedelta

from activejob import Job, job, limits_concurrency, rate_limit, unique


class CleanupJob(Job):
    queue_as = "maintenance"

    def perform(self, days: int, *, dry_run: bool = False) -> None:
        pass


@job(queue_as="feeds")
def poll_feeds() -> None:
    pass


# flow control of recurring runs (tests/backends/test_recurring.py)
@unique(until="finished")
class UniqueReportJob(Job):
    def perform(self) -> None:
        pass


@limits_concurrency(to=1, key="report")
class LimitedReportJob(Job):
    def perform(self) -> None:
        pass


@rate_limit(1, per=timedelta(minutes=1), key="report")
class RateReportJob(Job):
    def perform(self) -> None:
        pass

"""Recurring jobs (docs/recurring.md): two jobs, scheduled in code.

A worker that imports this module (`--import jobs`) runs both tasks; every other
task comes from the TOML file given with `--recurring`.
"""

from __future__ import annotations

from pathlib import Path

from activejob import Job, job, recurring

LOG = Path("ran.log")


class CleanupJob(Job):
    queue_as = "maintenance"

    def perform(self, days: int) -> None:
        with LOG.open("a") as log:
            log.write(f"cleanup older than {days} days\n")


@job(queue_as="feeds")
def poll_feeds() -> None:
    with LOG.open("a") as log:
        log.write("polled the feeds\n")


recurring.register(
    "nightly-cleanup", CleanupJob, schedule="0 3 * * *", args=(30,), timezone="Europe/Berlin"
)
recurring.register("poll-feeds", poll_feeds, schedule="every 10 seconds")

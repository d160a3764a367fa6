"""Jobs with timeouts, for the "Timeouts and cancellation" recipes of docs/flow-control.md."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from activejob import Job, JobTimeout, job, retry_on


@retry_on(JobTimeout, wait=5, attempts=3)
class FetchFeedJob(Job):
    timeout = 10  # seconds: past them the task is cancelled, the job fails with JobTimeout

    async def perform(self, url: str) -> None:
        await asyncio.sleep(0.1)  # stands for the HTTP request


class ExportJob(Job):
    timeout = timedelta(minutes=5)

    def perform(self, rows: int) -> None:
        for row in range(rows):
            self.checkpoint()  # JobTimeout after 5 minutes, JobCancelled after a cancel
            export_row(row)


class NightlyReport(Job):
    def perform(self) -> None:
        print("the report")


@job(timeout=30)
def resize(image_id: int) -> None:
    time.sleep(0.01)  # stands for the work


def export_row(row: int) -> None:
    time.sleep(0.01)  # stands for the work of one row

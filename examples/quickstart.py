"""The README's 30-second example: declare jobs, enqueue them, watch them run."""

from datetime import timedelta

import activejob
from activejob import Job, job, retry_on
from activejob.adapters.asyncpool import AsyncAdapter

pool = AsyncAdapter(threads=1)  # an in-process thread; durable backends are in the README
activejob.configure(adapter=pool)


@retry_on(ConnectionError, wait=0.1, attempts=3)
class WelcomeEmailJob(Job):
    queue_as = "mailers"

    def perform(self, user_id: int, *, locale: str = "en") -> None:
        print(f"welcome mail for user {user_id} ({locale}), attempt {self.executions}")
        if self.executions < 2:
            raise ConnectionError("SMTP server busy")


@job(queue_as="reports")
def build_report(day: str) -> None:
    print(f"report for {day} built")


WelcomeEmailJob.perform_later(42, locale="fr")
WelcomeEmailJob.set(wait=timedelta(seconds=0.5)).perform_later(43)
build_report.perform_later("2026-11-28")
pool.join(timeout=10)  # wait until every job (retries and scheduled ones too) has run

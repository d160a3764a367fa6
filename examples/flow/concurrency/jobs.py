"""One charge per account at a time, at most three calls to the payment provider
at once, and a rates refresh that is skipped while another is waiting or running."""

from __future__ import annotations

import time
from datetime import timedelta

from activejob import Job, limits_concurrency


def log(line: str) -> None:
    with open("ran.log", "a") as out:
        out.write(f"{time.time():.6f} {line}\n")


@limits_concurrency(to=3, key="provider", group="payments")
@limits_concurrency(to=1, key=lambda account_id, **_: account_id, duration=timedelta(minutes=15))
class ChargeJob(Job):
    def perform(self, account_id: int, cents: int) -> None:
        log(f"start charge {account_id} {cents}")
        time.sleep(0.2)  # the call to the payment provider
        log(f"end charge {account_id} {cents}")


@limits_concurrency(to=1, on_conflict="discard")
class RefreshRatesJob(Job):
    """Nice to have: a second refresh while one is pending is dropped, not queued."""

    def perform(self) -> None:
        log("refreshed rates")

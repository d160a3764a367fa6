"""An API quota as rate limits: the geocoder allows 5 calls a second and 100 a
minute for the whole account, whichever worker makes them."""

from __future__ import annotations

import time
from datetime import timedelta

from activejob import Job, rate_limit


@rate_limit(5, per=timedelta(seconds=1), key="geocoder")
@rate_limit(100, per=timedelta(minutes=1), key="geocoder")
class GeocodeJob(Job):
    def perform(self, address: str) -> None:
        with open("calls.log", "a") as log:  # stands in for the API call
            log.write(f"{time.time():.3f} {address}\n")


@rate_limit(2, per=timedelta(seconds=1), key=lambda account_id, **_: f"crm:{account_id}")
class SyncAccountJob(Job):
    """Two syncs a second per account: the key is computed from the arguments."""

    def perform(self, account_id: int, full: bool = False) -> None:
        with open("calls.log", "a") as log:
            log.write(f"{time.time():.3f} sync {account_id}\n")

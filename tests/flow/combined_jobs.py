"""The job of the combined flow-control test (``--import tests.flow.combined_jobs``):
unique, limited to two at a time per account, and rate limited, all at once."""

from __future__ import annotations

import threading
from datetime import timedelta

from activejob import Job, limits_concurrency, rate_limit, unique
from tests.flow.concurrency_jobs import note

PER_ACCOUNT = 2
"""Runs of one account at once."""
STARTS, PER = 4, 1.0
"""Starts allowed per window of ``PER`` seconds, across every account."""


@limits_concurrency(to=PER_ACCOUNT, key=lambda account, **_: account)
@rate_limit(STARTS, per=timedelta(seconds=PER), key="combined")
@unique(until="finished")
class Combined(Job):
    """Each run notes its start and end in the ledger, busy for ``hold`` seconds."""

    def perform(self, account: str, ledger: str, tag: str, hold: float = 0.15) -> None:
        note(ledger, "start", tag, account)
        threading.Event().wait(hold)  # the work: being busy for `hold` seconds
        note(ledger, "end", tag, account)

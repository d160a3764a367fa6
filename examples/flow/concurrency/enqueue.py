"""Enqueue three charges for account 42, one for account 7, and two refreshes."""

from jobs import ChargeJob, RefreshRatesJob

import activejob

activejob.configure(adapter="sqlite:///jobs.sqlite3")
for cents in (100, 200, 300):
    ChargeJob.perform_later(42, cents)
ChargeJob.perform_later(7, 500)
RefreshRatesJob.perform_later()
RefreshRatesJob.perform_later()  # discarded: the first one holds the only slot

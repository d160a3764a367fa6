"""Enqueue a burst of work: 12 geocodes and 4 syncs of two accounts."""

from jobs import GeocodeJob, SyncAccountJob

import activejob

activejob.configure(adapter="sqlite:///jobs.sqlite3")
for n in range(12):
    GeocodeJob.perform_later(f"{n} Main Street")
for account_id in (1, 1, 1, 2):
    SyncAccountJob.perform_later(account_id)
print("enqueued 16 jobs")

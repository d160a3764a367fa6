"""Run from this folder: python demo.py (a SQLite file, unique.sqlite3, appears)."""

from jobs import DailyDigestJob, IndexDocumentJob, RefreshFeedJob

import activejob
from activejob import DuplicateJobError

activejob.configure(adapter="sqlite:///unique.sqlite3?auto_migrate=1")

# Dedupe: the second refresh of feed 7 is not stored and names the first.
first = RefreshFeedJob.perform_later(7)
again = RefreshFeedJob.perform_later(7)
print("dedupe:", again.successfully_enqueued, again.duplicate_of == first.job_id)

# Debounce: the second edit moves into the waiting job, its run time pushed back.
edit = IndexDocumentJob.set(wait=30).perform_later(42, revision=1)
newer = IndexDocumentJob.set(wait=30).perform_later(42, revision=2)
waiting = activejob.status(edit.job_id)
assert waiting is not None
print("debounce:", newer.duplicate_of == edit.job_id, waiting.payload["kwargs"])

# One per day: the second digest raises.
DailyDigestJob.perform_later()
try:
    DailyDigestJob.perform_later()
except DuplicateJobError as exc:
    print("one per day:", type(exc).__name__, exc.key)

# Run what is due (the debounced job waits its 30 s), on one thread so the jobs print
# in turn: the key of feed 7 is free again.
activejob.Worker(options=activejob.WorkerOptions(burst_horizon=0, threads=1)).run(burst=True)
print("after the run:", RefreshFeedJob.perform_later(7).successfully_enqueued)

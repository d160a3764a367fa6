"""Enqueue from the application: each job becomes one RQ job."""

from datetime import timedelta

from rq_jobs import ReceiptJob

now = ReceiptJob.perform_later(42)
later = ReceiptJob.set(wait=timedelta(seconds=2)).perform_later(43)
print("RQ job ids:", now.provider_job_id, later.provider_job_id)

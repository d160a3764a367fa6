"""Enqueue from the application: Huey's task and the activejob job side by side."""

from datetime import timedelta

from huey_tasks import ReceiptJob, legacy_receipt

legacy_receipt(41)
now = ReceiptJob.perform_later(42)
later = ReceiptJob.set(wait=timedelta(seconds=2)).perform_later(43)
print("Huey task ids:", now.provider_job_id, later.provider_job_id)

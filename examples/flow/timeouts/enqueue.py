"""Enqueue an export that runs for a long while, and a report for tomorrow."""

from __future__ import annotations

from datetime import timedelta

from jobs import ExportJob, NightlyReport, resize

import activejob

activejob.configure(adapter="sqlite:///timeouts.sqlite3")

export = ExportJob.perform_later(rows=1_000_000)
report = NightlyReport.set(wait=timedelta(days=1)).perform_later()
resize.set(timeout=60).perform_later(42)  # this once, a minute rather than 30 s
print("export", export.job_id)
print("report", report.job_id)

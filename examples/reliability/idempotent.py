"""docs/reliability.md: a job whose effect happens once however often it runs.

Run it from anywhere: ``python examples/reliability/idempotent.py``. It runs the
same job twice, as a worker killed mid-job would, and shows one charge stored."""

import sqlite3
import tempfile
from pathlib import Path

from activejob import Job

SHOP = Path(tempfile.mkdtemp()) / "shop.sqlite3"
with sqlite3.connect(SHOP) as db:
    db.execute("CREATE TABLE charges (job_id TEXT PRIMARY KEY, order_id INTEGER, cents INTEGER)")


class ChargeOrderJob(Job):
    def perform(self, order_id: int, cents: int) -> None:
        # The job's id is the same on every run of this job: a rerun finds its row.
        with sqlite3.connect(SHOP) as db:
            db.execute(
                "INSERT INTO charges (job_id, order_id, cents) VALUES (?, ?, ?) "
                "ON CONFLICT (job_id) DO NOTHING",
                (self.job_id, order_id, cents),
            )


job = ChargeOrderJob(1001, 4999)
payload = job.serialize()  # what the store keeps
ChargeOrderJob.deserialize(payload).perform_now()  # the run whose worker was killed
ChargeOrderJob.deserialize(payload).perform_now()  # the run after recovery
with sqlite3.connect(SHOP) as db:
    print(db.execute("SELECT order_id, cents FROM charges").fetchall())

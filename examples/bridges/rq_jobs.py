"""The application's jobs, on RQ: imported by the code that enqueues and by the worker."""

import os

import activejob
from activejob import Job, retry_on

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
activejob.configure(adapter=f"rq:{REDIS_URL}")


class PrinterJammed(Exception):
    pass


@retry_on(PrinterJammed, wait=0, attempts=3)
class ReceiptJob(Job):
    def perform(self, order_id: int) -> None:
        with open(os.environ.get("RECEIPTS", "receipts.txt"), "a") as receipts:
            receipts.write(f"receipt for order {order_id}\n")

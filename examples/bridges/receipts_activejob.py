"""After: the same work as an activejob job, still run by Celery."""

import os

from celery import Celery

import activejob
from activejob import Job, retry_on
from activejob.adapters.celery import CeleryAdapter

app = Celery("receipts", broker=os.environ.get("BROKER_URL", "redis://localhost:6379/0"))
activejob.configure(adapter=CeleryAdapter(app))  # registers the activejob.execute task


def deliver(order_id: int) -> None:
    with open(os.environ.get("RECEIPTS_LOG", "receipts.log"), "a") as log:
        log.write(f"receipt for order {order_id}\n")


@retry_on(ConnectionError, wait=activejob.polynomially_longer, attempts=5)
class SendReceiptJob(Job):
    queue_as = "mail"

    def perform(self, order_id: int) -> None:
        deliver(order_id)


"""Before: a Celery task."""

import os

from celery import Celery

app = Celery("receipts", broker=os.environ.get("BROKER_URL", "redis://localhost:6379/0"))


def deliver(order_id: int) -> None:
    with open(os.environ.get("RECEIPTS_LOG", "receipts.log"), "a") as log:
        log.write(f"receipt for order {order_id}\n")


@app.task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=4, queue="mail")
def send_receipt(order_id: int) -> None:
    deliver(order_id)


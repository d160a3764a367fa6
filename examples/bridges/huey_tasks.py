"""The Huey instance the consumer loads (`huey_consumer huey_tasks.huey`), the activejob
adapter on it, and the jobs, beside a task of Huey's own."""

import os

from huey import RedisHuey

import activejob
from activejob import Job
from activejob.adapters.huey import HueyAdapter, JSONSerializer

huey = RedisHuey(
    "shop",
    url=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
    serializer=JSONSerializer(),  # JSON messages, not pickle
)
activejob.configure(adapter=HueyAdapter(huey))


def write(line: str) -> None:
    with open(os.environ.get("RECEIPTS", "receipts.txt"), "a") as receipts:
        receipts.write(line + "\n")


@huey.task()
def legacy_receipt(order_id: int) -> None:  # a Huey task, as before
    write(f"legacy receipt for order {order_id}")


class ReceiptJob(Job):  # the same work as an activejob job
    def perform(self, order_id: int) -> None:
        write(f"receipt for order {order_id}")

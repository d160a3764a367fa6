"""Enqueue inside your own SQLite transaction: the job exists if and only if the
order does. Run it: ``python sqlite_orders.py [shop.sqlite3]``."""

import sqlite3
import sys

import activejob
from activejob import Job
from activejob.status import status
from activejob.transaction import in_transaction

path = sys.argv[1] if len(sys.argv) > 1 else "shop.sqlite3"
activejob.configure(adapter=f"sqlite:///{path}")  # jobs live in the same file


class ShipOrderJob(Job):
    def perform(self, order_id: int) -> None:
        print(f"shipping order {order_id}")


db = sqlite3.connect(path)
db.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY)")

with db:  # commits when the block ends
    db.execute("INSERT INTO orders (id) VALUES (1)")
    with in_transaction(db):
        shipped = ShipOrderJob.perform_later(1)

try:
    with db:  # rolls back: the exception escapes the block
        db.execute("INSERT INTO orders (id) VALUES (2)")
        with in_transaction(db):
            never = ShipOrderJob.perform_later(2)
        raise RuntimeError("payment declined")
except RuntimeError:
    pass

print("order 1 job:", status(shipped.job_id).state.value)  # ready
print("order 2 job:", status(never.job_id))  # None: rolled back with the order

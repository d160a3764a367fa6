"""Enqueue inside your own PostgreSQL transaction: the job exists if and only if the
order does. Run it: ``python postgresql_orders.py postgresql://localhost/shop``
(after ``activejob migrate --adapter <the same URL>``)."""

import sys

import psycopg

import activejob
from activejob import Job
from activejob.status import status
from activejob.transaction import in_transaction

url = sys.argv[1]
activejob.configure(adapter=url)  # jobs live in the same database


class ShipOrderJob(Job):
    def perform(self, order_id: int) -> None:
        print(f"shipping order {order_id}")


with psycopg.connect(url) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY)")
    conn.commit()

    with conn.transaction():  # commits when the block ends
        conn.execute("INSERT INTO orders (id) VALUES (1)")
        with in_transaction(conn):
            shipped = ShipOrderJob.perform_later(1)

    try:
        with conn.transaction():  # rolls back: the exception escapes the block
            conn.execute("INSERT INTO orders (id) VALUES (2)")
            with in_transaction(conn):
                never = ShipOrderJob.perform_later(2)
            raise RuntimeError("payment declined")
    except RuntimeError:
        pass

print("order 1 job:", status(shipped.job_id).state.value)  # ready
print("order 2 job:", status(never.job_id))  # None: rolled back with the order

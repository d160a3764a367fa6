"""Enqueue inside your own MariaDB/MySQL transaction: the job exists if and only if the
order does. Run it: ``python mysql_orders.py mysql://app:secret@localhost/shop``
(after ``activejob migrate --adapter <the same URL>``)."""

import sys
from urllib.parse import unquote, urlsplit

import MySQLdb

import activejob
from activejob import Job
from activejob.status import status
from activejob.transaction import in_transaction

url = sys.argv[1]
activejob.configure(adapter=url)  # jobs live in the same database


class ShipOrderJob(Job):
    def perform(self, order_id: int) -> None:
        print(f"shipping order {order_id}")


parts = urlsplit(url)
conn = MySQLdb.connect(
    host=parts.hostname or "localhost",
    port=parts.port or 3306,
    user=unquote(parts.username or ""),
    password=unquote(parts.password or ""),
    database=parts.path[1:],
)
conn.cursor().execute("CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY)")

conn.begin()
conn.cursor().execute("INSERT INTO orders (id) VALUES (1)")
with in_transaction(conn):
    shipped = ShipOrderJob.perform_later(1)
conn.commit()  # the order and its job, together

conn.begin()
conn.cursor().execute("INSERT INTO orders (id) VALUES (2)")
with in_transaction(conn):
    never = ShipOrderJob.perform_later(2)
conn.rollback()  # payment declined: neither the order nor its job
conn.close()

print("order 1 job:", status(shipped.job_id).state.value)  # ready
print("order 2 job:", status(never.job_id))  # None: rolled back with the order

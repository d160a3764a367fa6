"""Enqueue inside the application's own database transaction.

Inside ``with activejob.in_transaction(conn):`` the SQL adapters write jobs on
``conn`` (a ``sqlite3.Connection`` or a psycopg ``Connection``) instead of their
own connections, so a job exists if and only if the caller's transaction
commits: no job for a row that was rolled back, no row missing when the job runs.
The database must be the one the adapter stores jobs in. Other adapters ignore it.

Example::

    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("INSERT INTO orders (id) VALUES (%s)", (42,))
        with activejob.in_transaction(conn):
            ShipOrderJob.perform_later(42)
    # committed here: the order and its job together
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["current_connection", "in_transaction"]

_connection: ContextVar[Any] = ContextVar("activejob_transaction_connection", default=None)


@contextmanager
def in_transaction(connection: Any) -> Iterator[Any]:
    """Enqueue on ``connection`` (inside its open transaction) within the block.

    Works per thread and per asyncio task (a context variable); blocks nest.
    """
    if connection is None:
        raise TypeError("in_transaction() needs a database connection, got None")
    token = _connection.set(connection)
    try:
        yield connection
    finally:
        _connection.reset(token)


def current_connection() -> Any:
    """The connection set by the innermost :func:`in_transaction`, or ``None``."""
    return _connection.get()

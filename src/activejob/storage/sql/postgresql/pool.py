"""The connection pool of the PostgreSQL dialect: psycopg connections in
:class:`~activejob.storage.sql.pool.ConnectionPool`.

A connection goes back to the pool only while no transaction is open on it, and
a readable idle one is asked ``SELECT 1`` before reuse (``pg_terminate_backend``
or a restart leave the socket readable).

Example::

    pool = ConnectionPool(lambda: psycopg.connect(url, autocommit=True), max_size=10)
    with pool.connection() as conn:
        conn.execute("SELECT 1")
"""

from __future__ import annotations

import psycopg
from psycopg import pq

from activejob.storage.sql import pool

__all__ = ["ConnectionPool"]


class ConnectionPool(pool.ConnectionPool[psycopg.Connection]):
    """LIFO pool of autocommit psycopg connections; thread-safe."""

    def _fileno(self, conn: psycopg.Connection) -> int | None:
        return None if conn.closed else conn.fileno()

    def _probe(self, conn: psycopg.Connection) -> bool:
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _reusable(self, conn: psycopg.Connection, failed: bool) -> bool:
        return not conn.closed and conn.info.transaction_status == pq.TransactionStatus.IDLE

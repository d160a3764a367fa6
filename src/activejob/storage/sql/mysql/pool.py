"""The connection pool of the MariaDB/MySQL dialect: mysqlclient connections in
:class:`~activejob.storage.sql.pool.ConnectionPool`.

A connection whose block raised is closed, never reused: after an error its
state (an open transaction, a half-read result) is not worth trusting. A
readable idle one (``KILL``, ``wait_timeout``, a restart) is pinged before reuse.

Example::

    pool = ConnectionPool(lambda: MySQLdb.connect(host="db", autocommit=True), max_size=10)
    with pool.connection() as conn:
        conn.cursor().execute("SELECT 1")
"""

from __future__ import annotations

from typing import Any

from activejob.storage.sql import pool

__all__ = ["ConnectionPool"]


class ConnectionPool(pool.ConnectionPool[Any]):
    """LIFO pool of autocommit mysqlclient connections; thread-safe."""

    def _fileno(self, conn: Any) -> int | None:
        try:
            return int(conn.fileno())
        except Exception:  # closed: mysqlclient raises its own InterfaceError
            return None

    def _probe(self, conn: Any) -> bool:
        try:
            conn.ping()
        except Exception:
            return False
        return True

    def _reusable(self, conn: Any, failed: bool) -> bool:
        return not failed

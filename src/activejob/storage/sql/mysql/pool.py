"""A small pool of mysqlclient connections, as the PostgreSQL one is built.

* Connections open on demand in the caller's thread, so a server that refuses
  connections fails the call at once with the server's own error.
* Before reuse, an idle connection is checked without a round trip: an idle
  MariaDB/MySQL socket has nothing to read, so a readable one was closed by the
  server (``KILL``, ``wait_timeout``, a restart) and is replaced.
* A connection whose block raised is closed, never reused: after an error its
  state (an open transaction, a half-read result) is not worth trusting.
* At most ``max_size`` connections are in use; one idle longer than ``max_idle``
  seconds is closed instead of reused.

Example::

    pool = ConnectionPool(lambda: MySQLdb.connect(host="db", autocommit=True), max_size=10)
    with pool.connection() as conn:
        conn.cursor().execute("SELECT 1")
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from activejob.storage.base import StorageError, StorageUnavailable

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """LIFO pool of autocommit mysqlclient connections; thread-safe."""

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        max_size: int = 10,
        timeout: float = 30.0,
        max_idle: float = 300.0,
    ) -> None:
        self._connect = connect
        self.max_size = max_size
        self.timeout = timeout
        self.max_idle = max_idle
        self._slots = threading.BoundedSemaphore(max_size)
        self._idle: list[tuple[Any, float]] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A live connection for the block; returned to the pool after it."""
        if self._closed:
            raise StorageError("the connection pool is closed")
        if not self._slots.acquire(timeout=self.timeout):
            raise StorageUnavailable(
                f"no free database connection within {self.timeout}s "
                f"(pool_size={self.max_size}); raise pool_size or use fewer threads"
            )
        try:
            conn = self._checkout()
            try:
                yield conn
            except BaseException:
                _close_quietly(conn)
                raise
            self._checkin(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close idle connections; connections in use close when returned."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            _close_quietly(conn)

    @property
    def idle_count(self) -> int:
        """Connections waiting in the pool."""
        return len(self._idle)

    def _checkout(self) -> Any:
        while True:
            with self._lock:
                entry = self._idle.pop() if self._idle else None
            if entry is None:
                return self._connect()
            conn, since = entry
            if time.monotonic() - since <= self.max_idle and _alive(conn):
                return conn
            _close_quietly(conn)

    def _checkin(self, conn: Any) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append((conn, time.monotonic()))
                return
        _close_quietly(conn)


def _alive(conn: Any) -> bool:
    """Whether an idle connection is still usable, without a round trip when it is."""
    try:
        fd = conn.fileno()
    except Exception:  # closed: mysqlclient raises its own InterfaceError
        return False
    if not _readable(fd):
        return True
    # Something arrived on an idle connection: the server's goodbye (an error packet
    # or EOF). Ask to be sure.
    try:
        conn.ping()
    except Exception:
        return False
    return True


def _readable(fd: int) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()

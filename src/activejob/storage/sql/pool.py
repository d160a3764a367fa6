"""A small connection pool for the SQL dialects, built for a job queue's needs.

* Connections open on demand in the caller's thread, so a server that refuses
  connections fails the call at once with the server's own error (an enqueue
  gets :class:`~activejob.EnqueueError` now, not after a pool timeout).
* Before reuse, an idle connection is checked without a round trip: an idle
  database socket has nothing to read, so a readable one was closed or
  terminated by the server (a kill, an idle timeout, a restart); the dialect
  then asks once (:meth:`ConnectionPool._probe`) and a dead one is replaced.
* At most ``max_size`` connections are in use; one idle longer than
  ``max_idle`` seconds is closed instead of reused.

A dialect subclasses :class:`ConnectionPool` and says how to read its
connections: ``_fileno``, ``_probe``, and ``_reusable`` (whether a connection
may go back to the pool after its block).

Example::

    pool = PostgreSQLPool(lambda: psycopg.connect(url, autocommit=True), max_size=10)
    with pool.connection() as conn:
        conn.execute("SELECT 1")
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from activejob.storage.base import StorageError, StorageUnavailable

__all__ = ["ConnectionPool"]

C = TypeVar("C")


class ConnectionPool(ABC, Generic[C]):
    """LIFO pool of autocommit connections; thread-safe."""

    def __init__(
        self,
        connect: Callable[[], C],
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
        self._idle: list[tuple[C, float]] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[C]:
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
            failed = True
            try:
                yield conn
                failed = False
            finally:
                self._checkin(conn, failed)
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

    # -- what a dialect says about its connections --------------------------------------

    @abstractmethod
    def _fileno(self, conn: C) -> int | None:
        """The connection's socket, or ``None`` if it is closed."""

    @abstractmethod
    def _probe(self, conn: C) -> bool:
        """One round trip: whether a connection with something to read is alive."""

    @abstractmethod
    def _reusable(self, conn: C, failed: bool) -> bool:
        """Whether ``conn`` may go back to the pool after its block (``failed``: the
        block raised)."""

    # -- the pool -----------------------------------------------------------------------

    def _checkout(self) -> C:
        while True:
            with self._lock:
                entry = self._idle.pop() if self._idle else None
            if entry is None:
                return self._connect()
            conn, since = entry
            if time.monotonic() - since <= self.max_idle and self._alive(conn):
                return conn
            _close_quietly(conn)

    def _checkin(self, conn: C, failed: bool) -> None:
        reusable = self._reusable(conn, failed)
        with self._lock:
            if reusable and not self._closed:
                self._idle.append((conn, time.monotonic()))
                return
        _close_quietly(conn)

    def _alive(self, conn: C) -> bool:
        """Whether an idle connection is still usable, without a round trip when it is."""
        if not self._reusable(conn, False):
            return False
        fd = self._fileno(conn)
        if fd is None:
            return False
        # Something arrived on an idle connection: most likely the server's goodbye.
        # Ask to be sure (a notice or a parameter change would also be readable).
        return not _readable(fd) or self._probe(conn)


def _readable(fd: int) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def _close_quietly(conn: object) -> None:
    with contextlib.suppress(Exception):
        conn.close()  # type: ignore[attr-defined]

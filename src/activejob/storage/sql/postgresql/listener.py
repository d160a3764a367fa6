"""The one session connection of the PostgreSQL storage: ``LISTEN`` for new jobs.

A background thread keeps a dedicated connection listening on the ``activejob``
channel and hands every notification (its payload is a queue name) to a
callback. Inserts notify from the INSERT statement itself; a trigger notifies
when a job goes back to ready or scheduled. If the connection drops, the thread
reconnects with backoff and, once listening again, reports ``None``
(notifications may have been missed: waiters should look). The storage waits for
the first attempt (:meth:`Listener.wait_first_attempt`) before it first looks
for work, so nothing falls between its look and the LISTEN. Everything else in
the storage uses short transactions, so only this connection needs a real
session (not PgBouncer in transaction mode).

Example::

    listener = Listener(lambda: psycopg.connect(url, autocommit=True), signal.notify)
    listener.start()
    ...
    listener.stop()
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Callable

import psycopg
from psycopg import pq, sql

__all__ = ["CHANNEL", "Listener"]

CHANNEL = "activejob"
"""The NOTIFY channel the triggers in ``0001_initial.sql`` use."""
MAX_BACKOFF = 5.0

logger = logging.getLogger("activejob.storage")


class Listener:
    """A thread that LISTENs and calls ``on_notify(queue_name)`` for each NOTIFY."""

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        on_notify: Callable[[str | None], None],
        *,
        channel: str = CHANNEL,
    ) -> None:
        self._connect = connect
        self._on_notify = on_notify
        self._channel = channel
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._tried = threading.Event()
        self.connections = 0
        """How many times the LISTEN connection has been (re)established."""
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)

    @property
    def listening(self) -> bool:
        """Whether the LISTEN connection is up right now."""
        return self._listening.is_set()

    def start(self) -> None:
        """Start the thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="activejob-listen", daemon=True
                )
                self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Block until the connection listens (for tests)."""
        return self._listening.wait(timeout)

    def wait_first_attempt(self, timeout: float) -> bool:
        """Block until the first connection attempt succeeded or failed."""
        return self._tried.wait(timeout)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and close its connection."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._wake_r.close()
        self._wake_w.close()

    def _run(self) -> None:
        backoff = 0.05
        connected_before = False
        while not self._stopping.is_set():
            conn = None
            try:
                conn = self._connect()
                # Notifications that arrive during a query (the keep-alive probe) are
                # dispatched to handlers rather than left for the loop below.
                conn.add_notify_handler(lambda n: self._on_notify(n.payload or None))
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                if connected_before:
                    self._on_notify(None)  # notifications may have been missed while down
                connected_before = True
                self.connections += 1
                self._listening.set()
                self._tried.set()
                backoff = 0.05
                self._pump(conn)
            except (psycopg.Error, OSError) as exc:
                logger.warning("activejob LISTEN connection lost (%s); reconnecting", exc)
            finally:
                self._tried.set()
                self._listening.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _pump(self, conn: psycopg.Connection) -> None:
        """Deliver notifications until stopped or the connection fails (raises)."""
        pgconn = conn.pgconn
        with selectors.DefaultSelector() as selector:
            selector.register(conn.fileno(), selectors.EVENT_READ, "db")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            while not self._stopping.is_set():
                events = selector.select(timeout=30.0)
                if any(key.data == "wake" for key, _ in events):
                    return
                if not events:
                    conn.execute("SELECT 1")  # a quiet connection may be a dead one
                    continue
                pgconn.consume_input()
                while (notify := pgconn.notifies()) is not None:
                    self._on_notify(notify.extra.decode("utf-8", "replace") or None)
                if pgconn.status == pq.ConnStatus.BAD:
                    raise psycopg.OperationalError("the LISTEN connection was closed")

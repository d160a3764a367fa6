"""``SQLiteStorage``: durable jobs in one SQLite file, shared by worker processes.

The file runs in WAL mode (readers never block the writer) with a busy timeout;
claims, heartbeats and recovery are short ``BEGIN IMMEDIATE`` transactions, so
several worker processes on one file never claim the same job. The schema is
migrated automatically on first use.

SQLite has no ``NOTIFY``: :meth:`wait` is woken at once by pushes from this
process, and sees other processes' commits through ``PRAGMA data_version``, which
it checks every ``poll_interval`` (2 ms by default: one cheap in-memory read, no
query). Only when that value changes does it look for due jobs.

Example::

    storage = SQLiteStorage("jobs.sqlite3")                       # or from_url(...)
    storage = SQLiteStorage.from_url("sqlite:///jobs.sqlite3?busy_timeout=10&keep_finished=3d")
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

from activejob import _time
from activejob.errors import ConfigurationError, shorten
from activejob.storage.base import (
    DEFAULT_KEEP_FINISHED,
    ClaimedJob,
    JobFilter,
    JobInfo,
    QueueInfo,
    SchemaError,
    StorageConfigurationError,
    StorageError,
    StorageUnavailable,
)
from activejob.storage.options import UrlOptions
from activejob.storage.selector import QueueSelector
from activejob.storage.signal import WakeSignal
from activejob.storage.sql.base import SQLStorage

__all__ = ["SQLiteStorage"]

T = TypeVar("T")

MIN_SQLITE = (3, 35, 0)
"""RETURNING (3.35), UPDATE ... FROM (3.33) and json_each are needed."""
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
_LENIENT = functools.partial(str, encoding="utf-8", errors="replace")
"""Reads text that is not UTF-8 with U+FFFD in place of the bad bytes."""

_signals: dict[str, WakeSignal] = {}
_signals_lock = threading.Lock()


def _signal_for(path: str) -> WakeSignal:
    """One wake-up signal per database file, shared by every storage on it in this process."""
    with _signals_lock:
        return _signals.setdefault(path, WakeSignal())


class SQLiteStorage(SQLStorage):
    """Jobs in the SQLite file at ``path`` (created if missing)."""

    sql_package: ClassVar[str] = "activejob.storage.sql.sqlite"
    no_limit: ClassVar[Any] = -1
    locks_keys = False  # flow: concurrency — BEGIN IMMEDIATE already serialises writers

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "NORMAL",
        keep_finished: float = DEFAULT_KEEP_FINISHED,
        poll_interval: float = 0.002,
        max_idle: int = 8,
        auto_migrate: bool = True,
    ) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise ConfigurationError(
                f"the sqlite adapter needs SQLite >= 3.35, this Python has {sqlite3.sqlite_version}"
            )
        text = os.fspath(path)
        if not text or text == ":memory:" or text.startswith("file:"):
            raise ConfigurationError(
                f"sqlite storage needs a file path, got {text!r} (an in-memory database "
                "cannot be shared by workers; use a file in a temporary directory)"
            )
        if synchronous.upper() not in SYNCHRONOUS:
            raise ConfigurationError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        self.path = os.path.abspath(text)
        super().__init__(
            keep_finished=keep_finished,
            auto_migrate=auto_migrate,
            poll_interval=poll_interval,
            signal=_signal_for(self.path),
        )
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous.upper()
        self.max_idle = max_idle
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writing = threading.RLock()
        """Held by this storage's write transaction (see :meth:`_begin`)."""
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()
        self._closed = False
        self._lenient = False

    @classmethod
    def from_url(cls, url: str) -> SQLiteStorage:
        """``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``, with
        ``busy_timeout``, ``synchronous``, ``keep_finished``, ``poll_interval``,
        ``max_idle`` and ``auto_migrate`` in the query."""
        options = UrlOptions.parse(url)
        if options.netloc:
            raise ConfigurationError(
                f"{url!r}: a sqlite URL has no host; write sqlite:///relative.db "
                "or sqlite:////absolute/path.db"
            )
        storage = cls(
            options.path,
            busy_timeout=options.duration("busy_timeout", 5.0),
            synchronous=options.take("synchronous", str, "NORMAL"),
            keep_finished=options.duration("keep_finished", DEFAULT_KEEP_FINISHED),
            poll_interval=options.duration("poll_interval", 0.002),
            max_idle=options.integer("max_idle", 8),
            auto_migrate=options.boolean("auto_migrate", True),
        )
        options.reject_unknown()
        return storage

    def __repr__(self) -> str:
        return f"<SQLiteStorage {self.path}>"

    def describe(self) -> str:
        """``sqlite:///`` and the file's absolute path."""
        return f"sqlite:///{self.path}"

    def exists(self) -> bool:
        """Whether the database file is there (opening it would create it)."""
        return os.path.exists(self.path)

    # -- connections ----------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        folder = os.path.dirname(self.path)
        if not os.path.isdir(folder):
            raise StorageConfigurationError(
                f"sqlite: the folder {folder} of {self.path} does not exist: create it, "
                "or fix the path in the URL"
            )
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
        except BaseException:
            conn.close()
            raise
        if self._lenient:
            conn.text_factory = _LENIENT
        return conn

    @contextmanager
    def _acquire(self) -> Iterator[sqlite3.Connection]:
        with _translated():
            if self._closed:
                raise StorageError(f"{self!r} is closed")
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._open()
            elif self._lenient:
                conn.text_factory = _LENIENT
        try:
            with _translated():
                yield conn
        finally:
            self._give_back(conn)

    def _give_back(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                conn.close()
                return
        with self._lock:
            if not self._closed and len(self._idle) < self.max_idle:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def _begin(self, conn: sqlite3.Connection) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so the busy timeout applies and a
        # read-then-write transaction can never fail half-way on a lock upgrade.
        # This process's own writers (a worker's fetcher, acker and heartbeat) queue
        # on a lock first: SQLite's busy handler would have the loser sleep 1, 2, 5 ms
        # and more before it tries again, while the lock wakes it as the other commits
        # (1 ms-sleep jobs on 20 threads: 8,600-9,300 -> 9,600-10,400 jobs/s). The wait
        # for it is bounded by the busy timeout too, and fails with SQLite's own error.
        if not self._writing.acquire(timeout=self.busy_timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            self._writing.release()

    @contextmanager
    def _foreign(self, connection: Any) -> Iterator[sqlite3.Connection]:
        if not isinstance(connection, sqlite3.Connection):
            raise TypeError(
                f"the sqlite adapter enqueues inside a sqlite3.Connection's transaction, "
                f"got {type(connection).__module__}.{type(connection).__qualname__}"
            )
        with _translated():
            rows = connection.execute("PRAGMA database_list").fetchall()
            files = {os.path.realpath(row[2]) for row in rows if row[1] == "main" and row[2]}
            if os.path.realpath(self.path) not in files:
                raise ConfigurationError(
                    f"in_transaction() got a connection to {sorted(files) or 'memory'}, "
                    f"but the jobs live in {self.path}"
                )
            self._check_foreign_schema(connection)
            yield connection

    @contextmanager
    def _savepoint(self, conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("SAVEPOINT activejob")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK TO activejob")
            conn.execute("RELEASE activejob")
            raise
        conn.execute("RELEASE activejob")

    def _apply_script(self, conn: sqlite3.Connection, script: str) -> None:
        # executescript() would commit the surrounding transaction: run statement by
        # statement (complete_statement keeps trigger bodies whole).
        statement = ""
        for line in script.splitlines(keepends=True):
            statement += line
            if sqlite3.complete_statement(statement):
                conn.execute(statement)
                statement = ""
        if statement.strip() and not _only_comments(statement):
            raise SchemaError(f"incomplete SQL at the end of a migration: {statement[:80]!r}")

    def _prefix_pattern(self, prefix: str) -> str:
        # GLOB, unlike SQLite's LIKE, is case-sensitive (as the other backends are)
        # and can use the job_id index; it has no escape character, only brackets.
        escaped = "".join(f"[{c}]" if c in "*?[" else c for c in prefix)
        return escaped + "*"

    # -- text that is not UTF-8 ---------------------------------------------------------

    # SQLite stores whatever bytes a writer gives as TEXT, and sqlite3 refuses to read
    # a value that is not UTF-8. Reading leniently costs a Python call per text value,
    # so it starts only once such a row was met; the operation is then run again
    # (its transaction was rolled back) and the bad row costs only its job.

    def _leniently(self, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except _NotUTF8:
            self._lenient = True
            return operation()

    def _claim(self, worker_id: str, selector: QueueSelector, limit: int) -> list[ClaimedJob]:
        return self._leniently(lambda: SQLStorage._claim(self, worker_id, selector, limit))

    def get(self, job_id: str) -> JobInfo | None:
        return self._leniently(lambda: SQLStorage.get(self, job_id))

    def _list(self, where: JobFilter) -> list[JobInfo]:
        return self._leniently(lambda: SQLStorage._list(self, where))

    def queues(self) -> list[QueueInfo]:
        return self._leniently(lambda: SQLStorage.queues(self))

    def workers(self) -> list[dict[str, Any]]:
        return self._leniently(lambda: SQLStorage.workers(self))

    # -- waiting ----------------------------------------------------------------------

    def _wait(self, selector: QueueSelector, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        seen: int | None = None
        next_due: float | None = None
        while True:
            with self._watching() as conn:
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != seen:
                    seen = version
                    next_due = self._next_due(conn, selector)
            now = _time.now()
            if next_due is not None and next_due <= now:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            pause = min(remaining, self.poll_interval)
            if next_due is not None:
                pause = min(pause, next_due - now)
            if self._signal.wait(selector, pause):
                return True

    @contextmanager
    def _watching(self) -> Iterator[sqlite3.Connection]:
        """The connection that watches ``data_version`` (it must stay the same one)."""
        with self._watch_lock, _translated():
            if self._closed:
                raise StorageError(f"{self!r} is closed")
            if self._watch is None:
                self._ensure_schema()
                self._watch = self._open()
            yield self._watch

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None


class _NotUTF8(StorageError):
    """A stored text is not UTF-8 (see ``SQLiteStorage._leniently``)."""


@contextmanager
def _translated() -> Iterator[None]:
    """sqlite3 errors as storage errors, with the driver's exception chained."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "Could not decode to UTF-8" in str(exc):
            raise _NotUTF8(f"sqlite: {shorten(str(exc))}") from exc
        if "no such table" in str(exc):
            raise SchemaError(
                f"the activejob tables are missing ({exc}): run `activejob migrate`"
            ) from exc
        raise StorageUnavailable(f"sqlite: {exc}") from exc
    except sqlite3.Error as exc:
        raise StorageError(f"sqlite: {exc}") from exc


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())

"""``PostgreSQLStorage``: durable jobs in PostgreSQL, on psycopg 3.

Claims take a batch with ``FOR UPDATE SKIP LOCKED`` in one autocommit statement
(a short transaction of its own, so PgBouncer in transaction mode is fine);
results are recorded a batch per statement; a bulk enqueue is one statement.
Idle workers wait on ``LISTEN activejob`` (one session connection per storage,
see :mod:`.listener`): the jobs table's triggers ``NOTIFY`` in the inserting
transaction, so enqueueing stays one round trip and a waiting worker starts a
new job at once. A scheduled job wakes its waiter when it comes due, and when
the LISTEN connection is down (or ``listen=false``) waiting falls back to an
adaptive poll.

Example::

    storage = PostgreSQLStorage.from_url("postgresql://app@db/app?pool_size=20")
    storage.migrate()
"""

from __future__ import annotations

import builtins
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors

from activejob import _time
from activejob.storage.base import (
    DEFAULT_KEEP_FINISHED,
    ClaimedJob,
    NewJob,
    SchemaError,
    StorageConfigurationError,
    StorageError,
    StorageUnavailable,
)
from activejob.storage.options import UrlOptions, mask_password
from activejob.storage.selector import QueueSelector
from activejob.storage.sql.base import SQLStorage
from activejob.storage.sql.postgresql.listener import Listener
from activejob.storage.sql.postgresql.pool import ConnectionPool
from activejob.storage.sql.postgresql.vacuum import DEFAULT_DEAD_ROWS, Vacuum

__all__ = ["PostgreSQLStorage"]

_DEFAULT_PREPARE: int | None = 5
FIRST_FALLBACK_POLL = 0.05
"""The first poll interval when no LISTEN connection is up; it doubles while idle."""


class PostgreSQLStorage(SQLStorage):
    """Jobs in the PostgreSQL database ``conninfo`` names (a URL or ``key=value`` string)."""

    sql_package: ClassVar[str] = "activejob.storage.sql.postgresql"
    unblock_in_one = True  # flow: concurrency — data-modifying CTEs: one round trip
    free_slots_locks = True  # flow: concurrency — and the freed keys locked in the same

    def __init__(
        self,
        conninfo: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        max_idle: float = 300.0,
        keep_finished: float = DEFAULT_KEEP_FINISHED,
        poll_interval: float = 1.0,
        auto_migrate: bool = False,
        listen: bool = True,
        listen_conninfo: str | None = None,
        prepare_threshold: int | None = 5,
        connect_timeout: float = 10.0,
        vacuum_dead_rows: int = DEFAULT_DEAD_ROWS,
    ) -> None:
        super().__init__(
            keep_finished=keep_finished, auto_migrate=auto_migrate, poll_interval=poll_interval
        )
        self.conninfo = conninfo
        self.listen_conninfo = listen_conninfo or conninfo
        self.prepare_threshold = prepare_threshold
        self.connect_timeout = connect_timeout
        self._pool = ConnectionPool(
            self._open, max_size=pool_size, timeout=pool_timeout, max_idle=max_idle
        )
        self.listener: Listener | None = (
            Listener(self._open_listen, self._signal.notify) if listen else None
        )
        self._idle_polls = 0
        self.vacuum = Vacuum(self._open, self._run_unprepared, dead_rows=vacuum_dead_rows)
        """VACUUMs the jobs table as claims leave dead rows (see :mod:`.vacuum`)."""

    @classmethod
    def from_url(cls, url: str) -> PostgreSQLStorage:
        """``postgresql://user:pass@host:port/db`` (also ``postgres://``). Our settings in
        the query: ``pool_size``, ``pool_timeout``, ``max_idle``, ``keep_finished``,
        ``poll_interval``, ``auto_migrate``, ``listen``, ``listen_url``,
        ``prepare_threshold`` (``none`` disables prepared statements),
        ``vacuum_dead_rows`` (``0``: never VACUUM, leave it to autovacuum); the rest
        (``sslmode``, ``connect_timeout``, ``application_name``, ...) go to libpq."""
        options = UrlOptions.parse(url)
        settings: dict[str, Any] = {
            "pool_size": options.integer("pool_size", 10, minimum=1),
            "pool_timeout": options.duration("pool_timeout", 30.0),
            "max_idle": options.duration("max_idle", 300.0),
            "keep_finished": options.duration("keep_finished", DEFAULT_KEEP_FINISHED),
            "poll_interval": options.duration("poll_interval", 1.0),
            "auto_migrate": options.boolean("auto_migrate", False),
            "listen": options.boolean("listen", True),
            "listen_conninfo": options.take("listen_url", str, None),
            "prepare_threshold": options.take("prepare_threshold", _threshold, _DEFAULT_PREPARE),
            "connect_timeout": options.duration("connect_timeout", 10.0),
            "vacuum_dead_rows": options.integer("vacuum_dead_rows", DEFAULT_DEAD_ROWS, minimum=0),
        }
        parts = urlsplit(url)
        conninfo = urlunsplit(
            ("postgresql", parts.netloc, parts.path, urlencode(options.query, quote_via=quote), "")
        )
        return cls(conninfo, **settings)

    def __repr__(self) -> str:
        parts = urlsplit(self.conninfo)
        where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
        return f"<PostgreSQLStorage {where}>"

    def describe(self) -> str:
        """The connection URL, password masked."""
        return mask_password(self.conninfo)

    # -- connections ----------------------------------------------------------------

    def _open(self) -> psycopg.Connection:
        try:
            return psycopg.connect(
                self.conninfo,
                autocommit=True,
                prepare_threshold=self.prepare_threshold,
                connect_timeout=max(1, round(self.connect_timeout)),
            )
        except psycopg.OperationalError as exc:
            raise _connect_error(exc, self.describe()) from exc

    def _open_listen(self) -> psycopg.Connection:
        return psycopg.connect(
            self.listen_conninfo,
            autocommit=True,
            connect_timeout=max(1, round(self.connect_timeout)),
        )

    @contextmanager
    def _acquire(self) -> Iterator[psycopg.Connection]:
        with _translated(), self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _begin(self, conn: psycopg.Connection) -> Iterator[None]:
        with conn.transaction():
            yield

    @contextmanager
    def _foreign(self, connection: Any) -> Iterator[psycopg.Connection]:
        if not isinstance(connection, psycopg.Connection):
            raise TypeError(
                "the postgresql adapter enqueues inside a psycopg.Connection's transaction, "
                f"got {type(connection).__module__}.{type(connection).__qualname__}"
            )
        with _translated():
            self._check_foreign_schema(connection)
            yield connection

    @contextmanager
    def _savepoint(self, conn: psycopg.Connection) -> Iterator[None]:
        with conn.transaction():  # a savepoint when the caller's transaction is open
            yield

    def _lock_schema(self, conn: psycopg.Connection) -> None:
        self._run(conn, "lock_schema")

    def _apply_script(self, conn: psycopg.Connection, script: str) -> None:
        conn.execute(script)  # no parameters: sent as one multi-statement query

    def _jobs_param(self, jobs: Sequence[NewJob]) -> Any:
        # Payloads are JSON already: embed them rather than escape them as strings
        # (half the bytes to encode and parse; the server checks they are JSON).
        dumps = json.dumps
        return (
            "["
            + ",".join(
                f'{{"job_id":{dumps(j.job_id)},"job_class":{dumps(j.job_class)},'
                f'"queue_name":{dumps(j.queue_name)},"priority":{int(j.priority)},'
                f'"run_at":{dumps(None if j.run_at is None else float(j.run_at))},'
                f'"payload":{j.payload},'
                f'"rate_limits":{j.rate_limits or "null"}}}'  # flow: rate limits
                for j in jobs
            )
            + "]"
        )

    def _run_unprepared(self, conn: Any, name: str, params: dict[str, Any] | None = None) -> Any:
        # Never a prepared statement: a generic plan cannot drop the filters left
        # out (``%(x)s IS NULL OR ...``) and walks the whole table; a plan made
        # with the values given uses the index that fits. VACUUM (a utility
        # statement) cannot be prepared at all.
        return conn.execute(self.sql.queries[name], params, prepare=False)

    def _array(self, values: Any) -> Any:
        return list(values)

    def _claim_scope(self) -> Any:
        # Each pattern's claim is one autocommit statement: no transaction to hold.
        return self._connection()

    def _claimed(self, found: bool) -> None:
        if found:
            self._idle_polls = 0

    def _claim(
        self, worker_id: str, selector: QueueSelector, limit: int
    ) -> builtins.list[ClaimedJob]:
        claimed = super()._claim(worker_id, selector, limit)
        self.vacuum.claimed(len(claimed))
        return claimed

    # flow: rate limits -- the claim is autocommit; its rate-limited part is a
    # transaction, opened only when a rate-limited job is due.
    # After a claim that found rate-limited jobs, the next one goes straight to its
    # transaction (a race between threads costs one probe, or one empty transaction).
    _rate_busy = False

    def _rate_probe(self, conn: Any, selector: QueueSelector, now: float) -> bool:
        if self._rate_busy:
            self._rate_busy = False
            return True
        return bool(self._run(conn, "rate_probe", {"now": now}).fetchone()[0])

    @contextmanager
    def _rate_scope(self, conn: Any) -> Iterator[None]:
        # Pipelined: BEGIN travels with the first query and COMMIT with nothing to wait for.
        with conn.pipeline(), conn.transaction():
            yield

    def _rate_lock(self, conn: Any, buckets: str, now: float) -> list[Any]:
        # Two statements, one round trip (pipelined): only new logs are written.
        self._run(conn, "rate_windows_create", {"buckets": buckets, "now": now})
        return list(self._run(conn, "rate_windows_select", {"buckets": buckets}).fetchall())

    def _rate_finish(
        self, conn: Any, ids: str, windows: str, worker_id: str, now: float
    ) -> Callable[[], list[Any]]:
        self._rate_busy = True
        params = {"ids": ids, "windows": windows, "now": now, "worker_id": worker_id}
        cursor = self._run(conn, "rate_claim_and_save", params)  # read after the COMMIT
        return lambda: list(cursor.fetchall())

    # -- waiting ----------------------------------------------------------------------

    def _wait(self, selector: QueueSelector, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if self.listener is not None:
            # Listen before the first look, so a job pushed after it is notified.
            self.listener.start()
            self.listener.wait_first_attempt(min(timeout, self.connect_timeout))
        while True:
            with self._connection() as conn:
                next_due = self._next_due(conn, selector)
            now = _time.now()
            if next_due is not None and next_due <= now:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            pause = min(remaining, self._poll_interval())
            if next_due is not None:
                pause = min(pause, next_due - now)
            if self._signal.wait(selector, pause):
                return True

    def _wait_cancel(self, timeout: float) -> bool:
        # flow: cancellation. A cancel's NOTIFY comes over the LISTEN connection.
        if self.listener is not None:
            self.listener.start()
        return super()._wait_cancel(timeout)

    def _poll_interval(self) -> float:
        """How long to trust the LISTEN connection, or to wait between polls without it."""
        if self.listener is not None and self.listener.listening:
            return self.poll_interval
        interval = min(FIRST_FALLBACK_POLL * 2.0**self._idle_polls, self.poll_interval)
        self._idle_polls = min(self._idle_polls + 1, 30)
        return interval

    def close(self) -> None:
        self.vacuum.close()
        if self.listener is not None:
            self.listener.stop()
        self._pool.close()


def _threshold(text: str) -> int | None:
    if text.strip().lower() in ("none", "off", "false", ""):
        return None
    value = int(text)
    if value < 0:
        raise ValueError("must be >= 0 or none")
    return value


_REFUSED = re.compile(
    r'(database|role) "[^"]*" does not exist|password authentication failed|no pg_hba\.conf entry'
)
"""What the server answers when it will never accept this URL, however often we retry."""


def _connect_error(exc: psycopg.OperationalError, where: str) -> Exception:
    """A failed connection as the error the caller can act on."""
    text = " ".join(str(exc).split())  # libpq's message spans lines; a log line must not
    if _REFUSED.search(text):
        reason = text.rsplit("FATAL:", 1)[-1].strip()
        return StorageConfigurationError(f"{where}: {reason}")
    # Only the server writes FATAL: without one, it was never reached.
    return StorageUnavailable(f"postgresql: {text}", unreachable="FATAL:" not in text)


@contextmanager
def _translated() -> Iterator[None]:
    """psycopg errors as storage errors, with the driver's exception chained."""
    try:
        yield
    except errors.UndefinedTable as exc:
        raise SchemaError(
            f"the activejob tables are missing ({exc}): run `activejob migrate`"
        ) from exc
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise StorageUnavailable(f"postgresql: {exc}".strip()) from exc
    except psycopg.Error as exc:
        raise StorageError(f"postgresql: {exc}".strip()) from exc

"""``MySQLStorage``: durable jobs in MariaDB (>= 10.6) or MySQL (>= 8.0), on mysqlclient.

A claim is one short transaction per queue pattern: ``SELECT ... ORDER BY
priority, run_at, id LIMIT n FOR UPDATE SKIP LOCKED`` then one ``UPDATE`` of the
rows it locked, so workers never wait for each other nor take the same job.
Sessions run at ``READ COMMITTED``: a claim locks only the rows it takes (no gap
locks that would hold up enqueues). Results are recorded a batch per statement
and a bulk enqueue is one statement, both with one JSON parameter.

There is no ``LISTEN``/``NOTIFY``: pushes from this process wake its waiters at
once; jobs from other processes are found by an adaptive poll (one indexed
``min(run_at)`` probe), every 50 ms after a claim found work, doubling while idle
up to ``poll_interval``.

Example::

    storage = MySQLStorage.from_url("mysql://app:secret@db/app?pool_size=20")
    storage.migrate()
"""

from __future__ import annotations

import builtins
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

import MySQLdb

from activejob import _time
from activejob.errors import ConfigurationError
from activejob.storage.base import (
    DEFAULT_KEEP_FINISHED,
    ClaimedJob,
    NewJob,
    StorageConfigurationError,
    StorageError,
    StorageUnavailable,
    crash_error,
)
from activejob.storage.options import UrlOptions, mask_password
from activejob.storage.selector import QueueSelector
from activejob.storage.sql import rate
from activejob.storage.sql.base import SQLStorage
from activejob.storage.sql.concurrency import announce_blocked
from activejob.storage.sql.mysql.concurrency import MySQLConcurrency
from activejob.storage.sql.mysql.pool import ConnectionPool
from activejob.storage.sql.mysql.server import (
    MIN_MARIADB,
    MIN_MYSQL,
    check_server_version,
    connect_error,
    deadlocked,
    translated,
)
from activejob.storage.sql.rows import claim_order, claimed_job
from activejob.storage.sql.unique import push_jobs_with_unique, unique_params

__all__ = ["MIN_MARIADB", "MIN_MYSQL", "URL_SETTINGS", "MySQLStorage", "check_server_version"]

FIRST_POLL = 0.05
"""The poll interval after a claim found work; it doubles while idle."""
URL_SETTINGS = (
    "pool_size",
    "pool_timeout",
    "max_idle",
    "keep_finished",
    "poll_interval",
    "auto_migrate",
    "connect_timeout",
    "unix_socket",
)
"""The settings a ``mysql://`` URL's query may hold."""
MIGRATION_LOCK_TIMEOUT = 60
DEADLOCK_ATTEMPTS = 5
"""Times a claim is run when InnoDB rolls it back as a deadlock victim."""
_SESSION = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"


class MySQLStorage(MySQLConcurrency, SQLStorage):
    """Jobs in the MariaDB/MySQL database that ``connect_args`` (mysqlclient's) name."""

    sql_package: ClassVar[str] = "activejob.storage.sql.mysql"
    returning = False  # flow: concurrency — no UPDATE/DELETE ... RETURNING in MySQL
    no_limit: ClassVar[Any] = 18446744073709551615  # MySQL's own "no limit"

    def __init__(
        self,
        connect_args: dict[str, Any],
        *,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        max_idle: float = 300.0,
        keep_finished: float = DEFAULT_KEEP_FINISHED,
        poll_interval: float = 1.0,
        auto_migrate: bool = False,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(
            keep_finished=keep_finished, auto_migrate=auto_migrate, poll_interval=poll_interval
        )
        self.connect_args = dict(connect_args)
        self.connect_timeout = connect_timeout
        self._pool = ConnectionPool(
            self._open, max_size=pool_size, timeout=pool_timeout, max_idle=max_idle
        )
        self._server_lock = threading.Lock()
        self._id_step: int | None = None
        """The auto-increment step when one statement's ids are consecutive, else None."""
        self._server_checked = False
        self._idle_polls = 0

    @classmethod
    def from_url(cls, url: str) -> MySQLStorage:
        """``mysql://user:pass@host:port/db`` (also ``mariadb://``). Settings in the query:
        ``pool_size``, ``pool_timeout``, ``max_idle``, ``keep_finished``,
        ``poll_interval``, ``auto_migrate``, ``connect_timeout``, ``unix_socket``."""
        options = UrlOptions.parse(url)
        parts = urlsplit(url)
        if not options.path:
            raise ConfigurationError(
                f"{mask_password(url)!r}: a mysql URL names its database: mysql://user@host:3306/db"
            )
        args: dict[str, Any] = {"host": parts.hostname or "localhost", "database": options.path}
        if parts.port:
            args["port"] = parts.port
        if parts.username:
            args["user"] = unquote(parts.username)
        if parts.password:
            args["password"] = unquote(parts.password)
        socket = options.take("unix_socket", str, None)
        if socket:
            args["unix_socket"] = socket
        storage = cls(
            args,
            pool_size=options.integer("pool_size", 10, minimum=1),
            pool_timeout=options.duration("pool_timeout", 30.0),
            max_idle=options.duration("max_idle", 300.0),
            keep_finished=options.duration("keep_finished", DEFAULT_KEEP_FINISHED),
            poll_interval=options.duration("poll_interval", 1.0),
            auto_migrate=options.boolean("auto_migrate", False),
            connect_timeout=options.duration("connect_timeout", 10.0),
        )
        if options.query:
            storage.close()
            raise StorageConfigurationError(
                f"bad mysql URL {mask_password(url)}: unknown option "
                f"{', '.join(map(repr, sorted(options.query)))} (the mysql adapter's are "
                f"{', '.join(URL_SETTINGS)})"
            )
        return storage

    def __repr__(self) -> str:
        args = self.connect_args
        where = args.get("unix_socket") or f"{args['host']}:{args.get('port', 3306)}"
        return f"<MySQLStorage {where}/{args['database']}>"

    def describe(self) -> str:
        """The connection as a ``mysql://`` URL, password masked."""
        args = self.connect_args
        user = quote(str(args.get("user", "")), safe="")
        login = f"{user}:***@" if "password" in args else (f"{user}@" if user else "")
        port = f":{args['port']}" if "port" in args else ""
        socket = args.get("unix_socket")
        query = f"?unix_socket={quote(str(socket), safe='/')}" if socket else ""
        return f"mysql://{login}{args['host']}{port}/{quote(str(args['database']))}{query}"

    # -- connections ----------------------------------------------------------------

    def _open(self) -> Any:
        try:
            conn = MySQLdb.connect(
                **self.connect_args,
                autocommit=True,
                charset="utf8mb4",
                connect_timeout=max(1, round(self.connect_timeout)),
                init_command=_SESSION,
            )
        except MySQLdb.OperationalError as exc:
            raise connect_error(exc, self.describe()) from exc
        if not self._server_checked:
            try:
                self._check_server(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    def _check_server(self, conn: Any) -> None:
        with self._server_lock:
            version, lock_mode, step = self._run(conn, "server_info").fetchone()
            check_server_version(str(version))
            # Lock mode 2 ("interleaved", MySQL 8's default) may interleave the ids
            # of concurrent multi-row inserts; 0 and 1 keep one statement's together.
            self._id_step = int(step) if int(lock_mode) < 2 else None
            self._server_checked = True

    @contextmanager
    def _acquire(self) -> Iterator[Any]:
        with translated(), self._pool.connection() as conn:
            yield conn

    def _run(self, conn: Any, name: str, params: dict[str, Any] | None = None) -> Any:
        cursor = conn.cursor()
        cursor.execute(self.sql.queries[name], params or {})
        return cursor

    @contextmanager
    def _begin(self, conn: Any) -> Iterator[None]:
        conn.begin()
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    @contextmanager
    def _foreign(self, connection: Any) -> Iterator[Any]:
        if not isinstance(connection, MySQLdb.connections.Connection):
            raise TypeError(
                "the mysql adapter enqueues inside a MySQLdb (mysqlclient) connection's "
                f"transaction, got {type(connection).__module__}.{type(connection).__qualname__}"
            )
        # The schema is checked (and created) on a connection of ours: DDL commits
        # the transaction it runs in, and that must never be the caller's.
        self._ensure_schema()
        with translated():
            yield connection

    @contextmanager
    def _savepoint(self, conn: Any) -> Iterator[None]:
        conn.cursor().execute("SAVEPOINT activejob")
        try:
            yield
        except BaseException:
            conn.cursor().execute("ROLLBACK TO SAVEPOINT activejob")
            raise
        conn.cursor().execute("RELEASE SAVEPOINT activejob")

    def _apply_script(self, conn: Any, script: str) -> None:
        for statement in _statements(script):
            conn.cursor().execute(statement)  # no parameters: no % interpolation

    def _migrate_on(self, conn: Any) -> builtins.list[str]:
        # DDL commits by itself here, so no transaction spans a migration: a named
        # lock serialises processes, and every script may safely run again.
        locked = self._run(conn, "lock_schema", {"timeout": MIGRATION_LOCK_TIMEOUT}).fetchone()
        if not locked or locked[0] != 1:
            raise StorageUnavailable(
                f"another process held the activejob migration lock for "
                f"{MIGRATION_LOCK_TIMEOUT}s; try `activejob migrate` again"
            )
        try:
            return self._migrate_inside(conn)
        finally:
            self._run(conn, "unlock_schema")

    def _prefix_pattern(self, prefix: str) -> str:
        # '!' as the LIKE escape: a backslash means something else under the
        # NO_BACKSLASH_ESCAPES sql_mode, '!' means the same in every mode.
        escaped = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        return escaped + "%"

    # -- enqueue and claim ----------------------------------------------------------

    def _push(self, jobs: Sequence[NewJob], connection: Any) -> builtins.list[Any]:
        now = _time.now()
        own = connection is None
        limited = any(job.concurrency for job in jobs)  # flow: concurrency
        with_unique = any(job.unique_key is not None for job in jobs)  # flow: unique
        one_transaction = own and (
            limited or (not with_unique and len(jobs) > 1 and self._id_step is None)
        )
        blocked: builtins.list[tuple[str, str, bool]] = []
        scope = self._connection() if own else self._foreign(connection)
        with scope as conn, self._begin(conn) if one_transaction else nullcontext():
            if with_unique:
                ids = self._push_unique(conn, jobs, now, own=own and not one_transaction)
            else:
                ids = self._insert_rows(conn, jobs, now)
            if limited:
                blocked = self.dispatch_new(conn, jobs, ids, now)
        for queue_name in {job.queue_name for job in jobs}:
            self._signal.notify(queue_name)
        announce_blocked(blocked)
        return ids

    def _insert_rows(self, conn: Any, jobs: Sequence[NewJob], now: float) -> builtins.list[Any]:
        if len(jobs) == 1:
            return [self._insert_one(conn, jobs[0], now)]
        if self._id_step is not None:
            cursor = self._run(conn, "insert_jobs", {"jobs": self._jobs_param(jobs), "now": now})
            if cursor.rowcount != len(jobs):
                raise StorageError(f"stored {cursor.rowcount} rows for {len(jobs)} jobs")
            first, step = int(cursor.lastrowid), self._id_step
            return [first + i * step for i in range(len(jobs))]
        return [self._run(conn, "insert_job", _insert_params(job, now)).lastrowid for job in jobs]

    def _insert_one(self, conn: Any, job: NewJob, now: float) -> Any:
        return self._run(conn, "insert_job", _insert_params(job, now)).lastrowid

    # flow: unique
    def _push_unique(
        self, conn: Any, jobs: Sequence[NewJob], now: float, *, own: bool
    ) -> builtins.list[Any]:
        """Push a batch holding unique jobs: ids, or a ``Duplicate`` per refused job."""

        def params(job: NewJob) -> dict[str, Any]:
            return {**_insert_params(job, now), **unique_params(job, now)}

        def inserted(cursor: Any) -> Any | None:
            # ON DUPLICATE KEY UPDATE id = id: 1 row for an insert, 0 for a conflict.
            return cursor.lastrowid if cursor.rowcount == 1 else None

        with self._begin(conn) if own and len(jobs) > 1 else nullcontext():
            return push_jobs_with_unique(
                self, conn, jobs, params, lambda job: self._insert_one(conn, job, now), inserted
            )

    def _claim(
        self, worker_id: str, selector: QueueSelector, limit: int
    ) -> builtins.list[ClaimedJob]:
        # A claim is one transaction: InnoDB rolls all of it back when it picks the
        # claim as a deadlock victim (two claims creating rate-limit logs at once), so
        # it is simply run again, as the server's message says.
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                return self._claim_once(worker_id, selector, limit)
            except StorageUnavailable as exc:
                if attempt == DEADLOCK_ATTEMPTS or not deadlocked(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _claim_once(
        self, worker_id: str, selector: QueueSelector, limit: int
    ) -> builtins.list[ClaimedJob]:
        self._signal.mark()
        now = _time.now()
        claimed: builtins.list[ClaimedJob] = []
        with self._transaction() as conn:
            # flow: rate limits -- the rate-limited jobs their windows admit, first.
            rate_rows = rate.claim_rate_limited(self, conn, worker_id, selector, now, limit)
            claimed.extend(claimed_job(row) for row in rate_rows)
            for pattern in selector.patterns:
                if len(claimed) >= limit:
                    break
                params = {"now": now, "limit": limit - len(claimed), "queue": pattern.value}
                rows = builtins.list(self._run(conn, f"pick_{pattern.kind}", params).fetchall())
                if not rows:
                    continue
                ids = json.dumps([row[0] for row in rows])
                self._run(conn, "mark_running", {"ids": ids, "worker_id": worker_id, "now": now})
                rows.sort(key=claim_order)
                claimed.extend(claimed_job(row) for row in rows)
                if len(claimed) >= limit:
                    break
        if claimed:
            self._idle_polls = 0
        return claimed

    # flow: rate limits -- no RETURNING here: the logs are created, then locked; the
    # admitted jobs (locked by rate_candidates) are read, then marked running.
    def _rate_lock(self, conn: Any, buckets: str, now: float) -> builtins.list[Any]:
        self._run(conn, "rate_windows_create", {"buckets": buckets, "now": now})
        return builtins.list(self._run(conn, "rate_windows_lock", {"buckets": buckets}).fetchall())

    def _rate_finish(
        self, conn: Any, ids: str, windows: str, worker_id: str, now: float
    ) -> Callable[[], builtins.list[Any]]:
        rows = builtins.list(self._run(conn, "rate_pick", {"ids": ids}).fetchall())
        if rows:
            ids = json.dumps([row[0] for row in rows])
            self._run(conn, "mark_running", {"ids": ids, "worker_id": worker_id, "now": now})
        self._run(conn, "rate_windows_save", {"windows": windows, "now": now})
        return lambda: rows

    # -- recovery -------------------------------------------------------------------

    def _crash_params(self, max_crashes: int) -> dict[str, Any]:
        error = crash_error(max_crashes + 1, max_crashes)
        return {
            "now": _time.now(),
            "max_crashes": max_crashes,
            "error_class": error.exception_class,
            "error_message": error.message,
            "error_traceback": error.traceback,
        }

    def _recover(self, stale_after: float, max_crashes: int) -> tuple[int, int]:
        params = self._crash_params(max_crashes)
        params["cutoff"] = params["now"] - stale_after
        # Those past max_crashes fail first; what is still running and stale is released.
        with self._transaction() as conn:
            failed = int(self._run(conn, "fail_stale_jobs", params).rowcount)
            released = int(self._run(conn, "release_stale_jobs", params).rowcount)
            self._run(conn, "delete_stale_workers", params)
            self._discard_cancelled(conn)  # flow: cancellation
        if released:
            self._signal.notify(None)
        self.sweep_concurrency()  # flow: concurrency
        return released, failed

    def _recover_worker(
        self, worker_id: str, started: builtins.list[Any], max_crashes: int
    ) -> tuple[int, int]:
        params = self._crash_params(max_crashes)
        params["worker_id"] = worker_id
        params["started"] = json.dumps([int(row_id) for row_id in started])
        # The started jobs first: what is still running afterwards had not started.
        with self._transaction() as conn:
            failed = int(self._run(conn, "fail_started_jobs", params).rowcount)
            released = int(self._run(conn, "release_started_jobs", params).rowcount)
            released += int(self._run(conn, "release_worker_jobs", params).rowcount)
            self._run(conn, "delete_worker", params)
            self._discard_cancelled(conn)  # flow: cancellation
        if released:
            self._signal.notify(None)
        self.sweep_concurrency()  # flow: concurrency
        return released, failed

    # -- waiting ----------------------------------------------------------------------

    def _wait(self, selector: QueueSelector, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
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

    def _poll_interval(self) -> float:
        """50 ms after work was found, doubling while idle, up to ``poll_interval``."""
        interval = min(FIRST_POLL * 2.0**self._idle_polls, self.poll_interval)
        self._idle_polls = min(self._idle_polls + 1, 30)
        return interval

    def close(self) -> None:
        self._pool.close()


def _insert_params(job: NewJob, now: float) -> dict[str, Any]:
    """The parameters of ``insert_job``: a job due later is scheduled, else ready now."""
    run_at = now if job.run_at is None else float(job.run_at)
    return {
        "job_id": job.job_id,
        "job_class": job.job_class,
        "queue_name": job.queue_name,
        "priority": job.priority,
        "state": "scheduled" if run_at > now else "ready",
        "payload": job.payload,
        "run_at": run_at,
        "now": now,
        "rate_limits": job.rate_limits,  # flow: rate limits
    }


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration script (no ``;`` inside literals or comments)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            yield statement.strip()

"""What every SQL storage does the same way: each :class:`~activejob.storage.base.Storage`
method as named queries from the dialect's ``queries.sql``.

A dialect (``sqlite``, ``postgresql``) supplies connections, transactions and
``wait``; this class supplies the rest once. Every timestamp is
:func:`activejob._time.now` passed as a parameter (never the server's clock), so
workers agree with each other and tests can drive time. Lists of rows travel as
one JSON parameter, so a batch of any size is one statement.

Example::

    storage = SQLiteStorage("jobs.sqlite3")
    [job_row_id] = storage.push([NewJob(job_id, "app.Job", "default", 0, payload)])
    claimed = storage.claim("worker-1", ["default"], 10)
"""

from __future__ import annotations

import builtins
import json
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ClassVar

from activejob import _time
from activejob.errors import DeserializationError, shorten
from activejob.flow.unique import holds_key
from activejob.storage.base import (
    CANCEL_NOTICE,
    DEFAULT_KEEP_FINISHED,
    Cancellation,
    ClaimedJob,
    ErrorInfo,
    JobFilter,
    JobInfo,
    JobState,
    NewJob,
    QueueInfo,
    Result,
    SchemaError,
    Storage,
    StorageError,
    cancel_error,
    crash_error,
)
from activejob.storage.browse import Activity, BlockedKey, JobPage, JobQuery
from activejob.storage.decode import Defects, load_object, payload_dict, sound_text
from activejob.storage.recurring import RecurringTaskInfo, RecurringTaskSpec
from activejob.storage.selector import QueuePattern, QueueSelector
from activejob.storage.signal import WakeSignal
from activejob.storage.sql import rate
from activejob.storage.sql.concurrency import ConcurrencyOps, announce_blocked
from activejob.storage.sql.queries import Dialect, load_dialect
from activejob.storage.sql.unique import push_jobs_with_unique, unique_params

__all__ = ["SQLStorage"]

CANCEL_SELECTOR = QueueSelector((QueuePattern("exact", CANCEL_NOTICE),))
"""What a worker's overseer waits for on the wake signal (flow: cancellation)."""


class SQLStorage(ConcurrencyOps, Storage):
    """The dialect-independent half of the SQL storages."""

    sql_package: ClassVar[str]
    """The package holding this dialect's ``queries.sql`` and migrations."""
    no_limit: ClassVar[Any] = None
    """The ``LIMIT`` parameter meaning "no limit"."""
    prune_batch: ClassVar[int] = 5000
    """Rows deleted per statement when pruning, so no statement holds locks long."""

    def __init__(
        self,
        *,
        keep_finished: float = DEFAULT_KEEP_FINISHED,
        auto_migrate: bool = False,
        poll_interval: float = 1.0,
        signal: WakeSignal | None = None,
    ) -> None:
        self.keep_finished = keep_finished
        self.auto_migrate = auto_migrate
        self.poll_interval = poll_interval
        self._signal = signal or WakeSignal()
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    @property
    def sql(self) -> Dialect:
        """This dialect's queries and migrations."""
        return load_dialect(self.sql_package)

    # -- what a dialect supplies ------------------------------------------------------

    @abstractmethod
    def _acquire(self) -> AbstractContextManager[Any]:
        """A connection of this storage in autocommit mode, returned when the block
        ends; driver errors raised in the block become ``StorageUnavailable`` or
        ``StorageError``."""

    @abstractmethod
    def _begin(self, conn: Any) -> AbstractContextManager[None]:
        """One short write transaction on ``conn``: commit on success, else roll back."""

    @abstractmethod
    def _foreign(self, connection: Any) -> AbstractContextManager[Any]:
        """The caller's own connection, checked, to run inside the caller's
        transaction (never committed here)."""

    @abstractmethod
    def _savepoint(self, conn: Any) -> AbstractContextManager[None]:
        """A savepoint inside the transaction the caller has open on ``conn``."""

    @abstractmethod
    def _apply_script(self, conn: Any, script: str) -> None:
        """Run one migration script inside the current transaction."""

    def _lock_schema(self, conn: Any) -> None:
        """Serialise migrations between processes (the transaction may suffice)."""

    def _array(self, values: Sequence[str]) -> Any:
        """A list of strings as this dialect's list parameter."""
        return json.dumps(list(values))

    def _prefix_pattern(self, prefix: str) -> str:
        """The ``job_id_pattern`` parameter matching ids that start with ``prefix``: a
        ``LIKE`` pattern with ``%``, ``_`` and the escape character escaped."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return escaped + "%"

    def _jobs_param(self, jobs: Sequence[NewJob]) -> Any:
        """Many jobs as the one parameter of ``insert_jobs``: a JSON array of objects."""
        return json.dumps([_job_row(job) for job in jobs])

    def _claim_scope(self) -> AbstractContextManager[Any]:
        """Where the statements of one claim run: one transaction by default."""
        return self._transaction()

    def _claimed(self, found: bool) -> None:
        """Told after each claim whether it found jobs (adaptive polling)."""

    # flow: rate limits
    def _rate_probe(self, conn: Any, selector: QueueSelector, now: float) -> bool:
        """Whether a claim should look for rate-limited jobs (a dialect whose claim
        is not a transaction checks first, so an unlimited claim opens none)."""
        return True

    def _rate_scope(self, conn: Any) -> AbstractContextManager[Any]:
        """The transaction of a claim's rate-limited part, inside ``_claim_scope``."""
        return nullcontext()

    def _rate_lock(self, conn: Any, buckets: str, now: float) -> builtins.list[Any]:
        """Create and lock the logs of ``buckets`` (JSON ``[[key, per], ...]``, in key
        order); their ``(rate_key, per, starts)`` rows."""
        params = {"buckets": buckets, "now": now}
        return builtins.list(self._run(conn, "rate_windows_lock", params).fetchall())

    def _rate_finish(
        self, conn: Any, ids: str, windows: str, worker_id: str, now: float
    ) -> Callable[[], builtins.list[Any]]:
        """Make the admitted jobs ``ids`` (a JSON array) running and save the logs
        ``windows``; returns how to read the claimed rows (called after the commit)."""
        params = {"ids": ids, "windows": windows, "now": now, "worker_id": worker_id}
        rows = builtins.list(self._run(conn, "rate_claim_jobs", params).fetchall())
        self._run(conn, "rate_windows_save", params)
        return lambda: rows

    # -- connections ----------------------------------------------------------------

    def _run(self, conn: Any, name: str, params: dict[str, Any] | None = None) -> Any:
        """Execute the named query; returns the driver's cursor."""
        return conn.execute(self.sql.queries[name], params or {})

    def _run_unprepared(self, conn: Any, name: str, params: dict[str, Any]) -> Any:
        """:meth:`_run` for a query whose plan depends on which filters are given
        (a dialect that prepares statements plans this one afresh each time)."""
        return self._run(conn, name, params)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._acquire() as conn:
            if not self._schema_ready:
                self._check_schema(conn)
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._connection() as conn, self._begin(conn):
            yield conn

    # -- schema ---------------------------------------------------------------------

    def migrate(self) -> None:
        """Apply pending migrations (idempotent, safe from several processes)."""
        self.apply_migrations()

    def apply_migrations(self) -> builtins.list[str]:
        """Apply pending migrations; returns the names of those applied now."""
        with self._acquire() as conn:
            applied = self._migrate_on(conn)
        self._schema_ready = True
        return applied

    def schema_version(self) -> tuple[int, int]:
        """``(applied, latest)`` schema versions."""
        with self._acquire() as conn:
            return self._schema_version(conn), self.sql.latest_version

    def _schema_version(self, conn: Any) -> int:
        """The applied schema version (0 when no activejob table exists). Raises
        nothing, so it is safe inside a caller's transaction."""
        if not self._run(conn, "migrations_table_exists").fetchone()[0]:
            return 0
        return int(self._run(conn, "schema_version").fetchone()[0])

    def _migrate_on(self, conn: Any) -> builtins.list[str]:
        with self._begin(conn):
            self._lock_schema(conn)
            return self._migrate_inside(conn)

    def migrate_in_transaction(self, conn: Any) -> builtins.list[str]:
        """Apply pending migrations on ``conn``, inside the transaction its caller has
        open (a framework's own migration, such as Django's ``manage.py migrate``), so
        they commit or roll back with it; returns the names applied. Not for MySQL,
        where DDL commits by itself: use :meth:`apply_migrations` there."""
        self._lock_schema(conn)
        return self._migrate_inside(conn)

    def _migrate_inside(self, conn: Any) -> builtins.list[str]:
        """Apply pending migrations in the transaction open on ``conn``."""
        applied: builtins.list[str] = []
        self._run(conn, "create_migrations_table")
        current = self._schema_version(conn)
        for migration in self.sql.migrations:
            if migration.version > current:
                self._apply_script(conn, migration.script)
                self._run(
                    conn,
                    "record_migration",
                    {"version": migration.version, "name": migration.name, "now": _time.now()},
                )
                applied.append(migration.name)
        return applied

    def _schema_behind(self, conn: Any) -> bool:
        """Whether migrations are pending on ``conn``'s database; raises
        :class:`SchemaError` when they may not be applied automatically."""
        current, latest = self._schema_version(conn), self.sql.latest_version
        if current > latest:
            raise SchemaError(
                f"the database's activejob schema (version {current}) is newer than this "
                f"activejob knows (version {latest}): upgrade activejob"
            )
        if current < latest and not self.auto_migrate:
            raise SchemaError(
                f"the activejob schema is at version {current}, this activejob needs "
                f"{latest}: run `activejob migrate --adapter <url>` (or storage.migrate())"
            )
        return current < latest

    def _check_schema(self, conn: Any) -> None:
        with self._schema_lock:
            if self._schema_ready:
                return
            if self._schema_behind(conn):
                self._migrate_on(conn)
            self._schema_ready = True

    def _check_foreign_schema(self, conn: Any) -> None:
        """Check (and, on first use, create) the schema through the caller's own
        connection: opening ours could wait on the lock the caller's transaction
        holds. A schema created here commits or rolls back with the caller's
        transaction, so it is not remembered as ready."""
        if self._schema_ready:
            return
        if not self._schema_behind(conn):
            self._schema_ready = True
            return
        with self._savepoint(conn):
            self._lock_schema(conn)
            self._migrate_inside(conn)

    def _ensure_schema(self) -> None:
        if not self._schema_ready:
            with self._connection():
                pass

    # -- enqueue and claim ----------------------------------------------------------

    def _push(self, jobs: Sequence[NewJob], connection: Any) -> builtins.list[Any]:
        now = _time.now()
        # flow: concurrency — limited jobs get their slots in the inserting transaction
        limited = any(job.concurrency for job in jobs)
        blocked: builtins.list[tuple[str, str, bool]] = []
        if connection is not None:
            scope = self._foreign(connection)
        else:
            scope = self._transaction() if limited else self._connection()
        with scope as conn:
            if any(job.unique_key is not None for job in jobs):  # flow: unique
                own = connection is None and not limited  # else: in the transaction above
                ids = self._push_unique(conn, jobs, now, own=own)
            else:
                ids = self._insert_rows(conn, jobs, now)
            if limited:
                blocked = self.dispatch_new(conn, jobs, ids, now)
        for queue_name in {job.queue_name for job in jobs}:
            self._signal.notify(queue_name)
        announce_blocked(blocked)
        return ids

    def _insert_rows(self, conn: Any, jobs: Sequence[NewJob], now: float) -> builtins.list[Any]:
        """Insert ``jobs`` on ``conn`` in one statement; their storage ids, in order."""
        if len(jobs) == 1:
            return [self._insert_one(conn, jobs[0], now)]
        cursor = self._run(conn, "insert_jobs", {"jobs": self._jobs_param(jobs), "now": now})
        # Ids follow insertion order within one statement.
        ids = sorted(row[0] for row in cursor.fetchall())
        if len(ids) != len(jobs):
            raise StorageError(f"stored {len(ids)} rows for {len(jobs)} jobs")
        return ids

    def _insert_one(self, conn: Any, job: NewJob, now: float) -> Any:
        """Insert one job on ``conn``; returns its storage id."""
        return self._run(conn, "insert_job", {**_job_row(job), "now": now}).fetchone()[0]

    # flow: unique
    def _push_unique(
        self, conn: Any, jobs: Sequence[NewJob], now: float, *, own: bool
    ) -> builtins.list[Any]:
        """Push a batch holding unique jobs: ids, or a ``Duplicate`` per refused job."""

        def params(job: NewJob) -> dict[str, Any]:
            return {**_job_row(job), **unique_params(job, now), "now": now}

        def inserted(cursor: Any) -> Any | None:
            row = cursor.fetchone()
            return None if row is None else row[0]

        def push() -> builtins.list[Any]:
            return push_jobs_with_unique(
                self, conn, jobs, params, lambda job: self._insert_one(conn, job, now), inserted
            )

        if len(jobs) == 1 or not own:
            return push()
        with self._begin(conn):
            return push()

    def _claim(
        self, worker_id: str, selector: QueueSelector, limit: int
    ) -> builtins.list[ClaimedJob]:
        self._signal.mark()
        now = _time.now()
        claimed: builtins.list[ClaimedJob] = []
        with self._claim_scope() as conn:
            # flow: rate limits -- the rate-limited jobs their windows admit, first.
            rows = rate.claim_rate_limited(self, conn, worker_id, selector, now, limit)
            claimed.extend(_claimed_job(r) for r in rows)
            for pattern in selector.patterns:
                if len(claimed) >= limit:
                    break
                params = {
                    "worker_id": worker_id,
                    "now": now,
                    "limit": limit - len(claimed),
                    "queue": pattern.value,
                }
                rows = self._run(conn, f"claim_{pattern.kind}", params).fetchall()
                rows.sort(key=_claim_order)
                claimed.extend(_claimed_job(r) for r in rows)
                if len(claimed) >= limit:
                    break
        self._claimed(bool(claimed))
        return claimed

    def _next_due(self, conn: Any, selector: QueueSelector) -> float | None:
        """The earliest run_at of a claimable job on ``selector``'s queues."""
        patterns = [p for p in selector.patterns if p.kind == "any"] or selector.patterns
        due: float | None = None
        for pattern in patterns:
            value = self._run(conn, f"next_due_{pattern.kind}", {"queue": pattern.value}).fetchone()
            if value[0] is not None and (due is None or value[0] < due):
                due = float(value[0])
        rate_due = rate.next_rate_due(self, conn, selector)  # flow: rate limits
        if rate_due is not None and (due is None or rate_due < due):
            due = rate_due
        return due

    def notify_stop(self) -> None:
        self._signal.notify(None)

    # -- flow: cancellation ---------------------------------------------------------

    def _cancel(self, job_id: str) -> Cancellation | None:
        now = _time.now()
        with self._transaction() as conn:
            row = self._run(conn, "cancel_find", {"job_id": job_id}).fetchone()
            if row is None:
                return None
            state = JobState(row[1])
            params = {"id": row[0], "now": now, **_error_params(cancel_error(running=False))}
            if state is JobState.RUNNING:
                self._run(conn, "cancel_request", params)
                if "announce_cancel" in self.sql.queries:
                    self._run(conn, "announce_cancel", {"notice": CANCEL_NOTICE})
                outcome: Any = "requested"
            elif state.finished:
                outcome = "finished"
            else:
                self._run(conn, "cancel_discard", params)
                outcome = "discarded"
                unblocked = self.release_cancelled(conn, row[0], now)  # flow: concurrency
        if outcome == "requested":
            self._signal.notify(CANCEL_NOTICE)  # a worker in this process hears it at once
        elif outcome == "discarded":
            self.announce_unblocked(unblocked)
        return Cancellation(job_id, outcome, state)

    def _cancel_requests(self, worker_id: str) -> builtins.list[Any]:
        with self._connection() as conn:
            rows = self._run(conn, "cancel_requests", {"worker_id": worker_id}).fetchall()
        return [row[0] for row in rows]

    def _wait_cancel(self, timeout: float) -> bool:
        return self._signal.wait(CANCEL_SELECTOR, timeout)

    def _mark_cancel_requested(self, conn: Any, infos: Sequence[JobInfo]) -> None:
        """Set ``cancel_requested`` on the running ``infos`` asked to stop (one query)."""
        running = {int(info.id): info for info in infos if info.state is JobState.RUNNING}
        if not running:
            return
        params = {"ids": json.dumps(sorted(running))}
        for row in self._run(conn, "cancel_pending", params).fetchall():
            running[int(row[0])].cancel_requested = True

    def _discard_cancelled(self, conn: Any) -> None:
        """Discard the jobs released unrun during the claim a cancel was asked in."""
        params = {"now": _time.now(), **_error_params(cancel_error(running=True))}
        self._run(conn, "discard_cancelled", params)

    # -- results, heartbeats, recovery ---------------------------------------------

    def _complete(self, results: Sequence[Result]) -> None:
        rows = [_result_row(result) for result in results]
        # results: return values (django.tasks) go first, in the same transaction.
        values = [
            {"id": r.id, "attempts": r.attempts, "return_value": r.return_value}
            for r in results
            if r.return_value is not None
        ]
        requeued = any(r.state in (JobState.READY, JobState.SCHEDULED) for r in results)
        now = _time.now()
        # flow: concurrency — freed slots go to the next blocked jobs in this transaction;
        # flow: cancellation — a released or retried job asked to stop is discarded in
        # it too, before any claim can see it ready.
        with self._transaction() as conn:
            if values:
                self._run(conn, "store_return_values", {"results": json.dumps(values)})
            unblocked = self.complete_and_release(conn, rows, now) if not requeued else None
            if unblocked is None:
                self._run(conn, "complete_jobs", {"results": json.dumps(rows), "now": now})
                if requeued:
                    self._discard_cancelled(conn)
                unblocked = self.release_completed(conn, results, now)
        self.announce_unblocked(unblocked)
        for result in results:
            if result.state in (JobState.READY, JobState.SCHEDULED):
                self._signal.notify(result.queue_name)

    def _heartbeat(self, worker_id: str, info: dict[str, Any] | None) -> None:
        params = {
            "worker_id": worker_id,
            "info": None if info is None else json.dumps(info, default=str),
            "now": _time.now(),
        }
        with self._transaction() as conn:
            self._run(conn, "upsert_worker", params)
            self._run(conn, "heartbeat_jobs", params)

    def unregister_worker(self, worker_id: str) -> None:
        with self._connection() as conn:
            self._run(conn, "delete_worker", {"worker_id": worker_id})

    def _recover(self, stale_after: float, max_crashes: int) -> tuple[int, int]:
        now = _time.now()
        error = crash_error(max_crashes + 1, max_crashes)
        params = {
            "now": now,
            "cutoff": now - stale_after,
            "max_crashes": max_crashes,
            "error_class": error.exception_class,
            "error_message": error.message,
            "error_traceback": error.traceback,
        }
        with self._transaction() as conn:
            states = [row[0] for row in self._run(conn, "recover_jobs", params).fetchall()]
            self._run(conn, "delete_stale_workers", params)
            self._discard_cancelled(conn)  # flow: cancellation
        released = states.count(JobState.READY.value)
        if released:
            self._signal.notify(None)
        self.sweep_concurrency()  # flow: concurrency
        return released, len(states) - released

    def _recover_worker(
        self, worker_id: str, started: builtins.list[Any], max_crashes: int
    ) -> tuple[int, int]:
        error = crash_error(max_crashes + 1, max_crashes)
        params = {
            "now": _time.now(),
            "worker_id": worker_id,
            "started": json.dumps([int(row_id) for row_id in started]),
            "max_crashes": max_crashes,
            "error_class": error.exception_class,
            "error_message": error.message,
            "error_traceback": error.traceback,
        }
        # The started jobs first: what is still running afterwards had not started.
        with self._transaction() as conn:
            states = [row[0] for row in self._run(conn, "recover_started_jobs", params).fetchall()]
            states += [row[0] for row in self._run(conn, "release_worker_jobs", params).fetchall()]
            self._run(conn, "delete_worker", params)
            self._discard_cancelled(conn)  # flow: cancellation
        released = states.count(JobState.READY.value)
        if released:
            self._signal.notify(None)
        self.sweep_concurrency()  # flow: concurrency
        return released, len(states) - released

    def _prune(self, older_than: float) -> int:
        params = {"cutoff": _time.now() - older_than, "batch": self.prune_batch}
        total = 0
        with self._connection() as conn:
            # Runs of recurring tasks are kept as long as finished jobs: long past the
            # catch-up window, which starts at the task's last run.
            self._run(conn, "prune_recurring_executions", params)
            self._run(conn, "rate_windows_prune", {"now": _time.now()})  # flow: rate limits
            self._prune_concurrency_keys(conn)  # flow: concurrency
            while True:
                deleted = int(self._run(conn, "prune_jobs", params).rowcount)
                total += max(deleted, 0)
                if deleted < self.prune_batch:
                    return total

    def _prune_concurrency_keys(self, conn: Any) -> None:
        """Forget the lock rows of concurrency keys nothing holds or waits for, on a
        dialect that keeps such rows (MySQL: query ``prune_concurrency_keys``)."""
        if "prune_concurrency_keys" not in self.sql.queries:
            return
        params = {"batch": self.prune_batch}
        while True:
            deleted = int(self._run(conn, "prune_concurrency_keys", params).rowcount)
            if deleted < self.prune_batch:
                return

    # -- operating -----------------------------------------------------------------

    def get(self, job_id: str) -> JobInfo | None:
        now = _time.now()
        with self._connection() as conn:
            row = self._run(conn, "get_job", {"job_id": job_id}).fetchone()
            if row is None:
                return None
            info = _job_info(row, now)
            self._mark_cancel_requested(conn, [info])  # flow: cancellation
            rate.held_until(self, conn, [info], now)  # flow: rate limits
        return info

    def _list(self, where: JobFilter) -> builtins.list[JobInfo]:
        now = _time.now()
        with self._connection() as conn:
            rows = self._run(conn, "list_jobs", self._filter_params(where, now)).fetchall()
            infos = [_job_info(row, now) for row in rows]
            self._mark_cancel_requested(conn, infos)  # flow: cancellation
            rate.held_until(self, conn, infos, now)  # flow: rate limits
        return infos

    def _retry(self, where: JobFilter) -> int:
        params = self._filter_params(where)
        with self._transaction() as conn:
            count = int(self._run(conn, "retry_jobs", params).rowcount)
            unblocked = self.park_retried(conn, params["now"]) if count else []  # flow: concurrency
        self.announce_unblocked(unblocked)
        if count:
            self._signal.notify(where.queue_name)
        return count

    def _discard(self, where: JobFilter) -> int:
        with self._connection() as conn:
            count = int(self._run(conn, "discard_jobs", self._filter_params(where)).rowcount)
        if count:
            self.sweep_concurrency()  # flow: concurrency — a discarded holder frees its slots
        return count

    def _pause(self, queue_name: str) -> None:
        with self._connection() as conn:
            self._run(conn, "pause_queue", {"queue_name": queue_name, "now": _time.now()})

    def _resume(self, queue_name: str) -> None:
        with self._connection() as conn:
            self._run(conn, "resume_queue", {"queue_name": queue_name})
        self._signal.notify(queue_name)

    # -- recurring tasks -------------------------------------------------------------

    def _declare_recurring(self, tasks: Sequence[RecurringTaskSpec]) -> None:
        now = _time.now()
        with self._transaction() as conn:
            for task in tasks:
                self._run(conn, "declare_recurring_task", {**_task_row(task), "now": now})

    def _recurring_tasks(self) -> builtins.list[RecurringTaskInfo]:
        now = _time.now()
        with self._connection() as conn:
            rows = self._run(conn, "list_recurring_tasks").fetchall()
        return [_task_info(row, now - self.recurring_orphan_after) for row in rows]

    def _set_recurring_paused(self, key: str, paused: bool) -> bool:
        params = {"task_key": key, "paused": paused, "now": _time.now()}
        with self._transaction() as conn:
            self._run(conn, "set_recurring_paused", params)
            # Not the UPDATE's row count: MySQL counts only rows it changed.
            return bool(self._run(conn, "recurring_task_exists", params).fetchone()[0])

    def _enqueue_recurring(self, key: str, run_at: int, job: NewJob) -> Any | None:
        now = _time.now()
        params = {"task_key": key, "run_at": run_at, "job_id": job.job_id, "now": now}
        with self._transaction() as conn:
            # The unique key decides: a concurrent insert of the same run waits for
            # this transaction and then inserts nothing.
            if self._run(conn, "insert_recurring_execution", params).rowcount != 1:
                return None
            # The gates of push: a unique key held elsewhere stores nothing (the run
            # still counts as enqueued), a limited job takes its slots or waits.
            if job.unique_key is not None:  # flow: unique
                [storage_id] = self._push_unique(conn, [job], now, own=False)
            else:
                storage_id = self._insert_one(conn, job, now)
            blocked = self.dispatch_new(conn, [job], [storage_id], now)  # flow: concurrency
            self._run(conn, "record_recurring_run", params)
        announce_blocked(blocked)
        self._signal.notify(job.queue_name)
        return storage_id

    def queues(self) -> builtins.list[QueueInfo]:
        # Counted on indexes, up to a cap per queue and state (storage/sql/browse.py).
        from activejob.storage.sql.browse import capped_queues

        return capped_queues(self)

    def _browse(self, query: JobQuery) -> JobPage:
        from activejob.storage.sql.browse import browse

        return browse(self, query)

    def _run_now(self, job_id: str) -> int:
        with self._connection() as conn:
            params = {"job_id": job_id, "now": _time.now()}
            count = int(self._run(conn, "run_scheduled_now", params).rowcount)
        if count:
            self._signal.notify(None)
        return count

    def _blocked_keys(self, limit: int) -> builtins.list[BlockedKey]:
        from activejob.storage.sql.browse import blocked_keys

        return blocked_keys(self, limit)

    def _activity(self, since: float, minutes: int) -> Activity:
        from activejob.storage.sql.browse import finished_activity

        return finished_activity(self, since, minutes)

    def workers(self) -> builtins.list[dict[str, Any]]:
        with self._connection() as conn:
            rows = self._run(conn, "list_workers").fetchall()
            running = self._run(conn, "running_jobs").fetchall()
        jobs: dict[str, builtins.list[str]] = {}
        for worker_id, job_id in running:
            jobs.setdefault(worker_id, []).append(job_id)
        workers = []
        for worker_id, info, started_at, heartbeat_at in rows:
            details = _json_object(info)
            workers.append(
                {
                    **details,
                    "id": worker_id,
                    "started_at": _time.from_timestamp(float(started_at)),
                    "heartbeat_at": _time.from_timestamp(float(heartbeat_at)),
                    "running": jobs.get(worker_id, []),
                }
            )
        return workers

    def _filter_params(self, where: JobFilter, now: float | None = None) -> dict[str, Any]:
        states = None if where.states is None else [JobState(s).value for s in where.states]
        return {
            "states": None if states is None else self._array(states),
            "queue_name": where.queue_name,
            "job_class": where.job_class,
            "job_ids": None if where.job_ids is None else self._array(list(where.job_ids)),
            "job_id_pattern": (
                None if where.job_id_prefix is None else self._prefix_pattern(where.job_id_prefix)
            ),
            "limit": self.no_limit if where.limit is None else where.limit,
            "offset": where.offset,
            "now": _time.now() if now is None else now,
        }


def _job_row(job: NewJob) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "job_class": job.job_class,
        "queue_name": job.queue_name,
        "priority": job.priority,
        "payload": job.payload,
        "run_at": None if job.run_at is None else float(job.run_at),
        "rate_limits": job.rate_limits,  # flow: rate limits
    }


def _task_row(task: RecurringTaskSpec) -> dict[str, Any]:
    return {
        "task_key": task.key,
        "job_class": task.job_class,
        "schedule": task.schedule,
        "timezone": task.timezone,
        "queue_name": task.queue_name,
        "priority": task.priority,
        "payload": task.payload,
    }


def _task_info(row: Sequence[Any], orphan_before: float) -> RecurringTaskInfo:
    key, job_class, schedule, timezone, queue_name, priority, payload, paused = row[:8]
    created_at, declared_at, last_run_at, resumed_at = row[8:12]
    return RecurringTaskInfo(
        key=str(key),
        job_class=str(job_class),
        schedule=str(schedule),
        timezone=str(timezone),
        queue_name=str(queue_name),
        priority=int(priority),
        payload=payload_dict(payload),
        paused=bool(paused),
        created_at=_time.from_timestamp(float(created_at)),
        declared_at=_time.from_timestamp(float(declared_at)),
        last_run_at=None if last_run_at is None else _time.from_timestamp(float(last_run_at)),
        resumed_at=None if resumed_at is None else _time.from_timestamp(float(resumed_at)),
        orphaned=float(declared_at) < orphan_before,
    )


def _error_params(error: ErrorInfo) -> dict[str, Any]:
    return {
        "error_class": error.exception_class,
        "error_message": error.message,
        "error_traceback": error.traceback,
    }


def _result_row(result: Result) -> dict[str, Any]:
    error = result.error
    return {
        "id": result.id,
        "state": JobState(result.state).value,
        "payload": result.payload,
        "run_at": None if result.run_at is None else float(result.run_at),
        "queue_name": result.queue_name,
        "priority": result.priority,
        "attempts": result.attempts,
        "error_class": None if error is None else error.exception_class,
        "error_message": None if error is None else error.message,
        "error_traceback": None if error is None else error.traceback,
    }


def _claim_order(row: Sequence[Any]) -> tuple[Any, ...]:
    """Priority, run-at, id; a corrupt priority or run-at sorts last instead of
    making the sort raise."""
    priority, run_at = row[5], row[6]
    return (
        priority if type(priority) is int else float("inf"),
        run_at if type(run_at) in (int, float) else float("inf"),
        row[0],
    )


def _claimed_job(row: Sequence[Any]) -> ClaimedJob:
    """A claimed row; one with a corrupt column carries the defect, for the worker
    to fail that job alone."""
    id_, job_id, queue_name, payload, attempts, priority, _, job_class = row
    if (
        type(priority) is int
        and type(attempts) is int
        and type(payload) is str
        and type(queue_name) is str
        and type(job_id) is str
        and sound_text(payload)
    ):
        return ClaimedJob(id_, job_id, queue_name, payload, attempts, job_class=job_class)
    d = Defects()
    d.integer("priority", priority)
    return ClaimedJob(
        id_,
        d.text("job_id", job_id, str(job_id)),
        d.text("queue_name", queue_name, str(queue_name)),
        d.text("payload", payload, "{}"),
        d.integer("attempts", attempts, 1),
        job_class=job_class if isinstance(job_class, str) else None,
        defect=d.message,
    )


def _job_info(row: Sequence[Any], now: float) -> JobInfo:
    """A row as a :class:`JobInfo`; a corrupt column is shown with a default and a
    :class:`~activejob.DeserializationError` as the error, never raised."""
    (id_, job_id, job_class, queue_name, priority, state, attempts, payload) = row[:8]
    created_at, run_at, started_at, finished_at, worker_id, heartbeat_at = row[8:14]
    error_class, error_message, error_traceback, crashes = row[14:18]
    return_value = row[18]  # results: return values (django.tasks)
    blocked_by = row[23] if len(row) > 23 else None  # flow: concurrency
    d = Defects()
    job_state = d.state(state)
    run_at_s = d.seconds("run_at", run_at, now)
    if job_state is JobState.SCHEDULED and run_at_s <= now:
        job_state = JobState.READY
    error = None
    if error_class is not None:
        error = ErrorInfo(str(error_class), str(error_message or ""), str(error_traceback or ""))
    info = JobInfo(
        id=id_,
        job_id=d.text("job_id", job_id),
        job_class=d.text("job_class", job_class),
        queue_name=d.text("queue_name", queue_name),
        priority=d.integer("priority", priority),
        state=job_state,
        attempts=d.integer("attempts", attempts),
        payload=payload_dict(payload),
        created_at=_time.from_timestamp(d.seconds("created_at", created_at, now)),
        run_at=_time.from_timestamp(run_at_s),
        started_at=d.maybe_time("started_at", started_at),
        finished_at=d.maybe_time("finished_at", finished_at),
        worker_id=worker_id,
        heartbeat_at=d.maybe_time("heartbeat_at", heartbeat_at),
        crashes=d.integer("crashes", crashes),
        return_value=return_value if isinstance(return_value, str) else None,
        blocked_by=None if blocked_by is None else str(blocked_by),
    )
    info.error = d.error(error)
    if len(row) > 19:  # flow: unique
        _unique_info(info, row[19:23], now)
    return info


def _unique_info(info: JobInfo, row: Sequence[Any], now: float) -> None:
    """Fill ``info``'s unique fields from the key, until, expiry and lock columns."""
    key, until, expires_at, lock = row
    if key is None:
        return
    expires = None if expires_at is None else float(expires_at)
    info.unique_key = str(key)
    info.unique_until = None if until is None else str(until)
    info.unique_expires_at = None if expires is None else _time.from_timestamp(expires)
    info.unique_held = lock is not None and holds_key(
        info.state.value, info.attempts, info.unique_until, expires, now
    )


def _json_object(text: Any) -> dict[str, Any]:
    """A stored JSON object (a worker's info); anything else is kept, shortened,
    under ``"raw"``."""
    if text is None:
        return {}
    try:
        return load_object(text, "the stored worker info")
    except DeserializationError:
        return {"raw": shorten(str(text))}

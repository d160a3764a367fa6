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
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

from activejob import _time
from activejob.storage.base import (
    DEFAULT_KEEP_FINISHED,
    ClaimedJob,
    JobFilter,
    JobInfo,
    JobState,
    NewJob,
    QueueInfo,
    Result,
    Storage,
    StorageError,
    crash_error,
)
from activejob.storage.browse import Activity, BlockedKey, JobPage, JobQuery
from activejob.storage.selector import QueueSelector
from activejob.storage.signal import WakeSignal
from activejob.storage.sql import rate
from activejob.storage.sql.cancel import CancelOps
from activejob.storage.sql.concurrency import ConcurrencyOps, announce_blocked
from activejob.storage.sql.recurring import RecurringOps
from activejob.storage.sql.rows import (
    claim_order,
    claimed_job,
    job_info,
    job_row,
    json_object,
    plain_success,
    result_row,
)
from activejob.storage.sql.schema import SchemaOps
from activejob.storage.sql.unique import push_jobs_with_unique, unique_params

__all__ = ["SQLStorage"]


class SQLStorage(SchemaOps, CancelOps, RecurringOps, ConcurrencyOps, Storage):
    """The dialect-independent half of the SQL storages, assembled from one mixin per
    concern: the schema (``sql/schema.py``), cancellation (``sql/cancel.py``),
    recurring tasks (``sql/recurring.py``) and concurrency limits
    (``sql/concurrency.py``), all on the connections of ``sql/connection.py``."""

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

    # -- what a dialect supplies ------------------------------------------------------

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
        return json.dumps([job_row(job) for job in jobs])

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
        return self._run(conn, "insert_job", {**job_row(job), "now": now}).fetchone()[0]

    # flow: unique
    def _push_unique(
        self, conn: Any, jobs: Sequence[NewJob], now: float, *, own: bool
    ) -> builtins.list[Any]:
        """Push a batch holding unique jobs: ids, or a ``Duplicate`` per refused job."""

        def params(job: NewJob) -> dict[str, Any]:
            return {**job_row(job), **unique_params(job, now), "now": now}

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
            claimed.extend(claimed_job(r) for r in rows)
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
                rows.sort(key=claim_order)
                claimed.extend(claimed_job(r) for r in rows)
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

    # -- results, heartbeats, recovery ---------------------------------------------

    def _complete(self, results: Sequence[Result]) -> None:
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
            unblocked = None
            if not requeued:
                unblocked = self.complete_and_release(conn, results, now)
            if unblocked is None:
                self._complete_rows(conn, results, now)
                if requeued:
                    self._discard_cancelled(conn)
                unblocked = self.release_completed(conn, results, now)
        self.announce_unblocked(unblocked)
        for result in results:
            if result.state in (JobState.READY, JobState.SCHEDULED):
                self._signal.notify(result.queue_name)

    def _complete_rows(self, conn: Any, results: Sequence[Result], now: float) -> None:
        """Record ``results`` on ``conn``: ``complete_jobs``, with the plain successes
        through ``succeed_jobs`` where the dialect has that cheaper statement."""
        rest: Sequence[Result] = results
        if "succeed_jobs" in self.sql.queries:
            plain: builtins.list[builtins.list[Any]] = []
            rest = []
            for result in results:
                if plain_success(result):
                    plain.append([result.id, result.attempts])
                else:
                    rest.append(result)
            if plain:
                self._run(conn, "succeed_jobs", {"results": json.dumps(plain), "now": now})
        if rest:
            rows = [result_row(result) for result in rest]
            self._run(conn, "complete_jobs", {"results": json.dumps(rows), "now": now})

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
            info = job_info(row, now)
            self._mark_cancel_requested(conn, [info])  # flow: cancellation
            rate.held_until(self, conn, [info], now)  # flow: rate limits
        return info

    def _list(self, where: JobFilter) -> builtins.list[JobInfo]:
        now = _time.now()
        with self._connection() as conn:
            rows = self._run(conn, "list_jobs", self._filter_params(where, now)).fetchall()
            infos = [job_info(row, now) for row in rows]
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

    # -- recurring tasks: a run is a push (the declared tasks: sql/recurring.py) -----

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
            details = json_object(info)
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

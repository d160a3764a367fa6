"""The worker side of a durable backend: the one interface the worker, the CLI,
``activejob.status`` and the dashboard use.

A durable adapter (``sqlite:``, ``postgresql:``, ``mysql:``, ``redis:``) owns a
:class:`Storage`. The enqueue side pushes :class:`NewJob` rows; a worker claims
batches of :class:`ClaimedJob`, runs them and reports :class:`Result` values in
batches (round trips, not rows, are the cost); operators list, retry, discard and
pause through the same object.

Invariants live here, once: which state changes are allowed, what timestamps
mean, which events fire. The public methods validate their arguments and call
the underscored hooks a backend implements (``_push``, ``_claim``, ...), each one
round trip where the server allows it. Every timestamp a backend writes comes
from :func:`activejob._time.now`, so tests can drive time with a fake clock.

States::

    scheduled --(due)--> ready --(claim)--> running --> succeeded
                                              |  \\--> failed     --(retry)--> ready
                                              |  \\--> discarded  --(retry)--> ready
                                              |  \\--> scheduled  (retry_on: run again later)
                                              \\--(worker died / drained)--> ready
    blocked --(a slot of its concurrency key frees)--> ready      (limits_concurrency)

A scheduled job whose time has come is reported as ``ready`` (and claimed like
one). A job's ``attempts`` counts claims. A running job whose worker stops
heartbeating is released (``ready``) and runs again: at-least-once. A job whose
worker died while running it more than ``max_crashes`` times is marked failed,
as a likely poison job, with a :class:`WorkerLostError`. Heartbeats cannot tell
which of a dead worker's jobs had started, so :meth:`Storage.recover` counts a
crash on each; when the worker's supervisor knows (it reaped the process and read
what it was running), :meth:`Storage.recover_worker` counts a crash only on the
jobs that had started, and a job that kills its worker fails alone.

Failures of the server itself raise :class:`StorageUnavailable`: the operation
did not apply (its transaction was rolled back), and the same call may be
retried once the server is back; the storage reconnects by itself.

The values the methods take and return (:class:`NewJob`, :class:`Result`,
:class:`JobInfo`, ...) are defined in :mod:`activejob.storage.records` and the
checks run on them in :mod:`activejob.storage.checks`; import them from here.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from activejob import events
from activejob.errors import ActiveJobError, ConfigurationError, JobCancelled
from activejob.storage.browse import BrowsingStorage
from activejob.storage.cancel import CANCEL_NOTICE, Cancellation, CancelStorage
from activejob.storage.checks import check_filter, check_name, check_new_job, check_result
from activejob.storage.records import (
    CLAIMABLE_STATES,
    FINISHED_STATES,
    RESULT_STATES,
    ClaimedJob,
    Duplicate,
    ErrorInfo,
    JobFilter,
    JobInfo,
    JobState,
    NewJob,
    QueueInfo,
    Result,
)
from activejob.storage.recurring import RecurringStorage
from activejob.storage.selector import QueueSelector

__all__ = [
    "CANCEL_NOTICE",
    "CLAIMABLE_STATES",
    "DEFAULT_KEEP_FINISHED",
    "FINISHED_STATES",
    "RESULT_STATES",
    "Cancellation",
    "ClaimedJob",
    "Duplicate",
    "ErrorInfo",
    "JobFilter",
    "JobInfo",
    "JobState",
    "NewJob",
    "QueueInfo",
    "Result",
    "SchemaError",
    "Storage",
    "StorageConfigurationError",
    "StorageError",
    "StorageUnavailable",
    "WorkerLostError",
]

DEFAULT_KEEP_FINISHED = 7 * 24 * 3600.0
"""Seconds finished jobs are kept before :meth:`Storage.prune` deletes them (7 days)."""


class StorageError(ActiveJobError):
    """The storage could not do what was asked."""


class StorageUnavailable(StorageError):
    """The server could not be reached or the connection dropped mid-operation.

    Nothing was half-applied: the operation's transaction was rolled back (or, if
    the connection dropped just as it committed, the operation is safe to repeat).
    Retry the same call with backoff; the storage reconnects by itself. The
    driver's exception is chained as ``__cause__``.

    ``unreachable`` is true when the server could not be reached at all (connection
    refused, unknown host, timeout), as opposed to a busy database or a full pool.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class StorageConfigurationError(StorageError, ConfigurationError):
    """The server (or the file system) refuses this backend's settings, and will on
    every retry: a database that does not exist, a wrong password, a Redis database
    index out of range, a SQLite file in a missing folder.

    A :class:`~activejob.errors.ConfigurationError`, so the worker and the CLI stop
    with exit status 2 instead of retrying; a :class:`StorageError`, so enqueueing
    raises ``EnqueueError`` for it as for any other refusal.
    """


class SchemaError(StorageError):
    """The database holds no activejob schema, or an older one: run ``activejob migrate``."""


class WorkerLostError(ActiveJobError):
    """Recorded as the error of a job whose worker died while running it too often."""


class Storage(RecurringStorage, CancelStorage, BrowsingStorage, ABC):
    """The worker side of a durable backend. See the module docstring for states.

    Thread-safe: a worker process shares one storage between its threads, and a
    thread blocked in :meth:`wait` does not block the others.
    """

    keep_finished: float = DEFAULT_KEEP_FINISHED
    """Seconds a finished job is kept; workers call ``prune(storage.keep_finished)``.
    Set per backend URL (``?keep_finished=7d``)."""

    @abstractmethod
    def migrate(self) -> None:
        """Bring the schema up to date (idempotent)."""

    def push(self, jobs: Sequence[NewJob], *, connection: Any = None) -> builtins.list[Any]:
        """Store jobs in one round trip; returns their storage ids, in order.

        A unique job (``unique_key`` set) whose key another stored job holds is not
        stored: its entry is a :class:`Duplicate` naming that job instead of an id.

        ``connection`` is the caller's own database connection (SQL backends):
        the jobs then exist if and only if the caller's transaction commits.
        """
        for job in jobs:
            check_new_job(job)
        if not jobs:
            return []
        return self._push(jobs, connection)

    def claim(self, worker_id: str, queues: Sequence[str], limit: int) -> builtins.list[ClaimedJob]:
        """Take up to ``limit`` due jobs for ``worker_id``.

        ``queues`` is in order of preference; ``"*"`` matches any queue and
        ``"name*"`` a prefix. Within a queue, smaller priority first, then oldest
        run-at. Paused queues are skipped. Scheduled jobs that are due are
        claimable. Claimed jobs become ``running``.
        """
        check_name("worker_id", worker_id)
        selector = QueueSelector.parse(queues)
        if limit < 0:
            raise ValueError(f"claim limit must be >= 0, got {limit}")
        if limit == 0:
            return []
        return self._claim(worker_id, selector, limit)

    def complete(self, results: Sequence[Result]) -> None:
        """Record how claimed jobs ended, atomically and in as few round trips as
        possible. Results for jobs that are no longer running are ignored, so a
        batch whose outcome is unknown may be sent again."""
        for result in results:
            check_result(result)
        if len({result.id for result in results}) != len(results):
            raise ValueError("complete() takes at most one result per claimed job")
        if results:
            self._complete(results)

    def heartbeat(self, worker_id: str, info: dict[str, Any] | None = None) -> None:
        """Say ``worker_id`` is alive, for it and every job it is running.

        ``info`` (hostname, pid, queues, ...) is shown by :meth:`workers`; ``None``
        keeps what the last heartbeat said.
        """
        check_name("worker_id", worker_id)
        self._heartbeat(worker_id, info)

    @abstractmethod
    def unregister_worker(self, worker_id: str) -> None:
        """Forget a worker that stopped cleanly."""

    def recover(self, stale_after: float, max_crashes: int) -> tuple[int, int]:
        """Release running jobs whose worker has not heartbeaten for ``stale_after``
        seconds; fail those that crashed their worker more than ``max_crashes``
        times. Atomic. Returns ``(released, failed)``."""
        if stale_after <= 0:
            raise ValueError(f"stale_after must be > 0 seconds, got {stale_after}")
        if max_crashes < 0:
            raise ValueError(f"max_crashes must be >= 0, got {max_crashes}")
        return self._recover(stale_after, max_crashes)

    def recover_worker(
        self, worker_id: str, started: Sequence[Any], max_crashes: int
    ) -> tuple[int, int]:
        """Release every job still running under ``worker_id``, a worker known to be
        dead (its supervisor reaped the process), and forget that worker. A crash is
        counted only on the jobs whose storage ids are in ``started`` (those it had
        begun to run); those past ``max_crashes`` are failed with a
        :class:`WorkerLostError`. Jobs it had claimed but not started go back to
        ``ready`` with no crash: a job that kills its worker fails alone. Jobs no
        longer running under ``worker_id`` (released already, by :meth:`recover` or an
        earlier call) are left alone, so a second call is harmless. Atomic. Returns
        ``(released, failed)``.

        Example::

            storage.recover_worker("host:4242:1a2b3c4d", started=[17], max_crashes=3)
        """
        check_name("worker_id", worker_id)
        if max_crashes < 0:
            raise ValueError(f"max_crashes must be >= 0, got {max_crashes}")
        if isinstance(started, (str, bytes)):
            raise TypeError("recover_worker() takes a list of storage ids as started")
        return self._recover_worker(worker_id, builtins.list(started), max_crashes)

    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        """Block until a job may be claimable on ``queues`` or ``timeout`` passes.

        Returns at once (``True``) if a job is claimable now. Returns whether
        something was signalled (``False`` on timeout); a ``True`` may be spurious.
        """
        selector = QueueSelector.parse(queues)
        return self._wait(selector, max(float(timeout), 0.0))

    def notify_stop(self) -> None:
        """Wake every thread blocked in :meth:`wait` (a worker is stopping)."""

    def prune(self, older_than: float) -> int:
        """Delete finished jobs that finished more than ``older_than`` seconds ago;
        returns how many."""
        if older_than < 0:
            raise ValueError(f"older_than must be >= 0 seconds, got {older_than}")
        return self._prune(older_than)

    # -- operating ---------------------------------------------------------------------

    @abstractmethod
    def get(self, job_id: str) -> JobInfo | None:
        """The most recent stored job with this ``job_id``."""

    def list(self, where: JobFilter) -> builtins.list[JobInfo]:
        """Jobs matching ``where``, newest first."""
        check_filter(where)
        return self._list(where)

    def retry(self, where: JobFilter) -> int:
        """Make failed or discarded jobs ready again; returns how many."""
        check_filter(where)
        count = self._retry(where)
        events.emit("jobs_retried", count=count, where=where)
        return count

    def discard(self, where: JobFilter) -> int:
        """Discard ready, scheduled, blocked and failed jobs (never running or succeeded ones);
        returns how many."""
        check_filter(where)
        count = self._discard(where)
        events.emit("jobs_discarded", count=count, where=where)
        return count

    def pause(self, queue_name: str) -> None:
        """Stop claiming from ``queue_name`` (enqueueing goes on)."""
        check_name("queue_name", queue_name)
        self._pause(queue_name)
        events.emit("queue_paused", queue_name=queue_name)

    def resume(self, queue_name: str) -> None:
        """Claim from ``queue_name`` again."""
        check_name("queue_name", queue_name)
        self._resume(queue_name)
        events.emit("queue_resumed", queue_name=queue_name)

    @abstractmethod
    def queues(self) -> builtins.list[QueueInfo]:
        """Every known queue (with jobs, or paused) with its counts by state and
        paused flag, by name."""

    @abstractmethod
    def workers(self) -> builtins.list[dict[str, Any]]:
        """Live workers, most recent heartbeat first: ``id``, ``heartbeat_at``,
        ``started_at``, ``running`` (their jobs' ``job_id``) and the ``info`` keys
        of their last heartbeat (``hostname``, ``pid``, ...)."""

    def describe(self) -> str:
        """Where the jobs live, for log lines: a URL with any password masked, a SQLite
        file as an absolute path."""
        return repr(self)

    def exists(self) -> bool:
        """Whether the store is there to read without creating it: ``False`` only for a
        SQLite file not made yet, which opening would create (a typo in the path)."""
        return True

    def close(self) -> None:
        """Release connections and threads."""

    # -- what a backend implements -------------------------------------------------------

    @abstractmethod
    def _push(self, jobs: Sequence[NewJob], connection: Any) -> builtins.list[Any]:
        """Insert validated, non-empty ``jobs``; ids in order."""

    @abstractmethod
    def _claim(
        self, worker_id: str, selector: QueueSelector, limit: int
    ) -> builtins.list[ClaimedJob]:
        """Claim up to ``limit`` (>= 1) jobs, pattern by pattern in ``selector``'s order."""

    @abstractmethod
    def _complete(self, results: Sequence[Result]) -> None:
        """Apply validated, non-empty ``results`` to rows still running."""

    @abstractmethod
    def _heartbeat(self, worker_id: str, info: dict[str, Any] | None) -> None: ...

    @abstractmethod
    def _recover(self, stale_after: float, max_crashes: int) -> tuple[int, int]: ...

    @abstractmethod
    def _recover_worker(
        self, worker_id: str, started: builtins.list[Any], max_crashes: int
    ) -> tuple[int, int]:
        """Release ``worker_id``'s running jobs, charging a crash to ``started`` only."""

    @abstractmethod
    def _wait(self, selector: QueueSelector, timeout: float) -> bool: ...

    @abstractmethod
    def _prune(self, older_than: float) -> int: ...

    @abstractmethod
    def _list(self, where: JobFilter) -> builtins.list[JobInfo]: ...

    @abstractmethod
    def _retry(self, where: JobFilter) -> int: ...

    @abstractmethod
    def _discard(self, where: JobFilter) -> int: ...

    @abstractmethod
    def _pause(self, queue_name: str) -> None: ...

    @abstractmethod
    def _resume(self, queue_name: str) -> None: ...


def crash_error(crashes: int, max_crashes: int) -> ErrorInfo:
    """The error recorded for a job failed by :meth:`Storage.recover` after its
    worker died ``crashes`` times (``max_crashes + 1`` when releases stop at the limit)."""
    return ErrorInfo(
        f"{WorkerLostError.__module__}.{WorkerLostError.__qualname__}",
        f"the worker running this job died or stopped heartbeating {crashes} times "
        f"(more than max_crashes={max_crashes}); the job may be crashing its worker",
        "",
    )


def cancel_error(running: bool) -> ErrorInfo:
    """The error recorded on a job cancelled while it waited (``running`` false) or
    whose cancel outlived its worker (released by recovery: it never runs again)."""
    cls = f"{JobCancelled.__module__}.{JobCancelled.__qualname__}"
    if running:
        return ErrorInfo(cls, "cancelled while it ran; its worker stopped before it ended", "")
    return ErrorInfo(cls, "cancelled before it ran (activejob.cancel)", "")

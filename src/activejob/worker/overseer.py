"""The overseer thread of a worker process: cancel requests and runaway jobs.

While the process runs jobs it does two things, neither of which costs a round
trip per job:

- **cancel requests** (``activejob.cancel(job_id)``): it blocks in
  :meth:`~activejob.storage.base.Storage.wait_cancel`, which the backend's
  wake-up channel ends at once (PostgreSQL ``NOTIFY``, Redis Pub/Sub; SQLite and
  MySQL have none), and at least every ``heartbeat_interval`` asks
  :meth:`~activejob.storage.base.Storage.cancel_requests` which of this worker's
  running jobs have one: one indexed query, only while jobs run. Each such job's
  :class:`~activejob.flow.timeouts.RunControl` is told (an async task is
  cancelled; a sync job raises ``JobCancelled`` at its next checkpoint).
- **runaway jobs**: a job ``timeout_grace`` seconds past its deadline that has
  not returned (a sync job that never calls ``checkpoint()``, an async one that
  swallows its cancellation) is recorded as timed out, its rules applied, while
  its thread runs on: a thread cannot be stopped. Its slot is lost, so the
  process stops claiming, finishes its other jobs and exits with
  :data:`REPLACE`, and its supervisor starts a fresh one.

Example::

    overseer = Overseer(storage, worker_id, executor, options, on_runaway=worker.runaway)
    overseer.start()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from activejob.flow.timeouts import control_of, overdue

if TYPE_CHECKING:
    from activejob.storage.base import Storage
    from activejob.worker.executor import Executor, Task
    from activejob.worker.options import WorkerOptions

__all__ = ["REPLACE", "Overseer"]

logger = logging.getLogger("activejob.worker")

REPLACE = 3
"""The status a worker process exits with after a job outran its timeout and kept
its thread: its supervisor replaces it at once (no crash counted)."""

IDLE_WAIT = 1.0
"""Seconds between looks while the process runs nothing (no query is made then)."""


class Overseer:
    """Delivers cancel requests to running jobs and abandons runaway ones."""

    def __init__(
        self,
        storage: Storage,
        worker_id: str,
        executor: Executor,
        options: WorkerOptions,
        on_runaway: Callable[[Task], None],
    ) -> None:
        self.storage = storage
        self.worker_id = worker_id
        self.executor = executor
        self.options = options
        self._on_runaway = on_runaway
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="activejob-overseer", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (it wakes within a second)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(IDLE_WAIT + 1.0)

    def _loop(self) -> None:
        next_poll = 0.0
        while not self._stop.is_set():
            running = self.executor.running_tasks()
            if not running:
                self._stop.wait(IDLE_WAIT)
                next_poll = 0.0  # a job that starts is looked at on the next turn
                continue
            now = time.monotonic()
            wait = min(max(next_poll - now, 0.0), self._until_overdue(running, now), IDLE_WAIT)
            try:
                woke = self.storage.wait_cancel(wait) if wait > 0 else False
                if woke or time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + self.options.heartbeat_interval
                    self._deliver(self.storage.cancel_requests(self.worker_id))
            except Exception as exc:
                logger.warning(
                    "looking for cancel requests failed (%s: %s)", type(exc).__name__, exc
                )
                self._stop.wait(IDLE_WAIT)
            self._abandon_runaways()

    def _until_overdue(self, running: list[Task], now: float) -> float:
        grace = self.options.timeout_grace
        deadlines = [
            c.deadline + grace
            for c in (t.job._activejob_control for t in running)
            if c is not None and c.deadline is not None
        ]
        return max(min(deadlines) - now, 0.0) if deadlines else IDLE_WAIT

    def _deliver(self, storage_ids: list[object]) -> None:
        if not storage_ids:
            return
        wanted = set(storage_ids)
        for task in self.executor.held_tasks():
            if task.claimed.id in wanted:
                control = control_of(task.job)
                if not control.cancel_requested:
                    logger.info(
                        "cancelling job %s (%s): asked to stop",
                        task.claimed.job_id,
                        task.job.job_class_name,
                    )
                    control.request_cancel()

    def _abandon_runaways(self) -> None:
        grace = self.options.timeout_grace
        now = time.monotonic()
        for task in self.executor.running_tasks():
            if overdue(task.job._activejob_control, grace, now) and self.executor.abandon(task):
                self._on_runaway(task)

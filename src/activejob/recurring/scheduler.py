"""The scheduler: enqueues each run of each recurring task, once across all schedulers.

Every ``activejob worker`` supervisor runs one (in its first worker process)
unless started with ``--no-scheduler``. Each tick (every second) it reads the
stored tasks, so a task paused or resumed with ``activejob recurring pause KEY``
takes effect at every scheduler's next tick, and for each of its own tasks that
is not paused it computes the latest run time due. A run later than the task's
last run is handed to :meth:`~activejob.storage.base.Storage.enqueue_recurring`,
which stores it under a unique key: however many schedulers ask, one stores it.

After downtime only the latest missed run is enqueued (``catch_up="latest"``),
never one per missed tick; ``catch_up="none"`` skips runs that fell due before
the scheduler started (more than two ticks before its first look). A new task's
runs start after it is first declared, and runs that fell while a task was
paused are not caught up on resume.

Example::

    scheduler = Scheduler(storage, recurring.tasks())
    scheduler.tick()        # one pass; returns the runs this scheduler stored
    scheduler.start()       # ticks on a thread until stop()
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from activejob import _time, events
from activejob.errors import DuplicateJobError
from activejob.flow import unique
from activejob.recurring.task import RecurringTask
from activejob.storage.base import Duplicate, Storage, StorageError

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["Run", "Scheduler"]

logger = logging.getLogger("activejob.recurring")

TICK = 1.0
"""Seconds between a scheduler's passes."""
DECLARE_EVERY = 60.0
"""Seconds between a scheduler's declarations of its tasks (which keep them from
being listed as orphaned)."""


@dataclass(frozen=True)
class Run:
    """One run this scheduler stored: the task's key, the run time, the job."""

    key: str
    run_at: int
    job_id: str
    storage_id: Any


class Scheduler:
    """Enqueues the runs of ``tasks`` into ``storage``; see the module docstring."""

    def __init__(
        self,
        storage: Storage,
        tasks: Sequence[RecurringTask],
        *,
        interval: float = TICK,
        declare_every: float = DECLARE_EVERY,
    ) -> None:
        if interval <= 0 or declare_every <= 0:
            raise ValueError("the scheduler's interval and declare_every must be positive")
        keys = [task.key for task in tasks]
        if len(set(keys)) != len(keys):
            raise ValueError("a scheduler takes each task key once")
        self.storage = storage
        self.tasks = list(tasks)
        self.interval = interval
        self.declare_every = declare_every
        self._anchors: dict[str, float] = {}
        """Per task: the latest run time known to be done (or skipped)."""
        self._declared_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass ---------------------------------------------------------------------

    def tick(self) -> list[Run]:
        """Declare the tasks if due, then store every run that is due now and later
        than the task's last run; returns the runs this scheduler stored (the ones
        another scheduler stored first are not among them)."""
        now = _time.now()
        if self._declared_at is None or now - self._declared_at >= self.declare_every:
            self.storage.declare_recurring([task.spec() for task in self.tasks])
            self._declared_at = now
        stored = {info.key: info for info in self.storage.recurring_tasks()}
        runs = []
        for task in self.tasks:
            info = stored.get(task.key)
            if info is None or info.paused:
                continue
            anchor = max(
                self._anchors.get(task.key, float("-inf")),
                info.created_at.timestamp(),
                info.last_run_at.timestamp() if info.last_run_at else float("-inf"),
                info.resumed_at.timestamp() if info.resumed_at else float("-inf"),
            )
            if task.key not in self._anchors and task.catch_up == "none":
                # Only a run due within the last two ticks is on time, not missed.
                anchor = max(anchor, now - 2 * self.interval)
            due = task.schedule.latest(now)
            if due is None or due <= anchor:
                self._anchors[task.key] = anchor
                continue
            run = self._enqueue(task, due)
            self._anchors[task.key] = due
            if run is not None:
                runs.append(run)
        return runs

    def _enqueue(self, task: RecurringTask, run_at: int) -> Run | None:
        job = task.build_job(run_at)
        from activejob.adapters.durable import new_job

        storage_id = self.storage.enqueue_recurring(task.key, run_at, new_job(job, None))
        if storage_id is None:
            return None
        if isinstance(storage_id, Duplicate):  # flow: unique -- the run counts as enqueued
            self._skipped_duplicate(task, run_at, job, storage_id)
            return None
        job.provider_job_id = str(storage_id)
        job.successfully_enqueued = True
        logger.info(
            "recurring task %s: enqueued %s (run at %s)",
            task.key,
            job.job_id,
            _time.from_timestamp(run_at).isoformat(),
        )
        events.emit("enqueue_recurring", job, task_key=task.key, run_at=run_at)
        return Run(task.key, run_at, job.job_id, storage_id)

    def _skipped_duplicate(
        self, task: RecurringTask, run_at: int, job: Job, duplicate: Duplicate
    ) -> None:
        """A run whose unique key another job holds: nothing was stored (or, with
        ``on_conflict="replace"``, the waiting holder took the run's arguments).
        Logged and announced as a ``duplicate``; never raised, even for
        ``on_conflict="raise"``: no caller is there to catch it, and the next run
        comes anyway."""
        with contextlib.suppress(DuplicateJobError):
            unique.mark_duplicate(job, None, duplicate.job_id, replaced=duplicate.replaced)
        logger.info(
            "recurring task %s: run at %s %s job %s, which holds its unique key",
            task.key,
            _time.from_timestamp(run_at).isoformat(),
            "replaced the arguments of" if duplicate.replaced else "skipped: a duplicate of",
            duplicate.job_id,
        )

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        """Tick every ``interval`` seconds until :meth:`stop`. A store that is down is
        logged and tried again at the next tick: a run is not lost, it is enqueued
        late (it is still the latest due)."""
        logger.info(
            "scheduler starting: %d recurring task(s): %s",
            len(self.tasks),
            ", ".join(task.key for task in self.tasks),
        )
        while not self._stop.is_set():
            try:
                self.tick()
            except StorageError as exc:
                logger.warning("scheduler: the store refused a tick (trying again): %s", exc)
            except Exception:
                logger.exception("scheduler: a tick failed (trying again)")
            self._stop.wait(self.interval)

    def start(self) -> threading.Thread:
        """Run :meth:`run` on a daemon thread; returns it."""
        self._thread = threading.Thread(target=self.run, name="activejob-scheduler", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop ticking; waits up to ``timeout`` for the current tick to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

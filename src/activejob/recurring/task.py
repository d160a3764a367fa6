"""Recurring tasks: what runs, when, with which arguments; and the registry of them.

Example::

    from activejob import recurring
    recurring.register("nightly-cleanup", CleanupJob, schedule="0 3 * * *", args=(30,),
                       timezone="Europe/Berlin")
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from activejob import _time
from activejob.errors import ConfigurationError
from activejob.recurring.schedule import Schedule, parse_schedule
from activejob.storage.base import NewJob
from activejob.storage.recurring import RecurringTaskSpec

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["CATCH_UP", "CatchUp", "RecurringTask", "clear", "register", "tasks", "unregister"]

CatchUp = Literal["latest", "none"]
CATCH_UP: tuple[CatchUp, ...] = ("latest", "none")
"""After downtime: ``"latest"`` enqueues the latest missed run, ``"none"`` skips it."""


@dataclass(frozen=True)
class RecurringTask:
    """One recurring task: a job class, its arguments and options, and a schedule.

    Build one with :func:`register` (or from a TOML file); :meth:`build_job` makes
    the job of one run.
    """

    key: str
    job_class: type[Job]
    schedule: Schedule
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    queue: str | None = None
    priority: int | None = None
    catch_up: CatchUp = "latest"

    @property
    def timezone(self) -> str:
        """The time zone the schedule is read in."""
        return self.schedule.timezone

    def build_job(self, run_at: int | None = None) -> Job:
        """A new, unenqueued job of this task, with its queue and priority applied;
        ``run_at`` (the run's time, epoch seconds) goes into its ``metadata``."""
        from activejob.job.options import EnqueueOptions

        job = self.job_class(*self.args, **dict(self.kwargs))
        job.apply_options(EnqueueOptions(queue=self.queue, priority=self.priority))
        job.enqueued_at = _time.utcnow()
        job.metadata["recurring"] = {
            "key": self.key,
            "run_at": None if run_at is None else _time.from_timestamp(run_at).isoformat(),
        }
        return job

    def new_job(self, run_at: int | None = None) -> NewJob:
        """What the store keeps of the job of one run."""
        from activejob.adapters.durable import new_job

        return new_job(self.build_job(run_at), None)

    def spec(self) -> RecurringTaskSpec:
        """This task as a scheduler declares it to the store."""
        job = self.new_job()
        return RecurringTaskSpec(
            key=self.key,
            job_class=job.job_class,
            schedule=self.schedule.text,
            timezone=self.timezone,
            queue_name=job.queue_name,
            priority=job.priority,
            payload=job.payload,
        )

    def next_run(self, after: datetime | None = None) -> datetime:
        """The first run time after ``after`` (default: now), in the task's zone."""
        moment = after or _time.from_timestamp(_time.now())
        return self.schedule.next_after(moment)


_tasks: dict[str, RecurringTask] = {}
_lock = threading.Lock()


def register(
    key: str,
    job: Any,
    *,
    schedule: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    queue: str | None = None,
    priority: int | None = None,
    timezone: str = "UTC",
    catch_up: CatchUp = "latest",
) -> RecurringTask:
    """Run ``job`` (a :class:`~activejob.Job` subclass or an ``@job`` function) on
    ``schedule``, under the unique ``key``; returns the task.

    ``schedule`` is a cron expression (``"0 3 * * *"``, ``"@hourly"``) or ``"every N
    seconds|minutes|hours|days [at HH:MM]"``, read in ``timezone`` (an IANA name).
    ``args``/``kwargs`` are the job's arguments (checked now: they must serialise);
    ``queue``/``priority`` override the job's. Registering a key again replaces it.
    Every ``activejob worker`` that imports the module runs the task, each run
    enqueued once however many workers run. Bad values raise ``ConfigurationError``.

    Example::

        recurring.register("poll-feeds", poll_feeds, schedule="every 5 minutes")
    """
    task = build_task(
        key,
        job,
        schedule=schedule,
        args=args,
        kwargs=kwargs,
        queue=queue,
        priority=priority,
        timezone=timezone,
        catch_up=catch_up,
    )
    with _lock:
        _tasks[task.key] = task
    return task


def build_task(
    key: str,
    job: Any,
    *,
    schedule: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    queue: str | None = None,
    priority: int | None = None,
    timezone: str = "UTC",
    catch_up: CatchUp = "latest",
) -> RecurringTask:
    """A checked :class:`RecurringTask`, not registered (see :func:`register`)."""
    from activejob.errors import SerializationError

    if not isinstance(key, str) or not key.strip():
        raise ConfigurationError(f"a recurring task key is a non-empty string, got {key!r}")
    if catch_up not in CATCH_UP:
        raise ConfigurationError(f"recurring task {key!r}: catch_up must be 'latest' or 'none'")
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise ConfigurationError(f"recurring task {key!r}: args must be a list or tuple")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise ConfigurationError(f"recurring task {key!r}: kwargs must be a mapping")
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)):
        raise ConfigurationError(f"recurring task {key!r}: priority must be an int")
    if queue is not None and (not isinstance(queue, str) or not queue.strip()):
        raise ConfigurationError(f"recurring task {key!r}: queue must be a non-empty string")
    task = RecurringTask(
        key=key,
        job_class=_job_class(key, job),
        schedule=parse_schedule(schedule, timezone),
        args=tuple(args),
        kwargs=dict(kwargs or {}),
        queue=queue,
        priority=priority,
        catch_up=catch_up,
    )
    try:
        json.loads(task.new_job().payload)
    except SerializationError as exc:
        raise ConfigurationError(f"recurring task {key!r}: {exc}") from exc
    return task


def _job_class(key: str, job: Any) -> type[Job]:
    from activejob.job.base import Job
    from activejob.job.function import JobFunction

    if isinstance(job, JobFunction):
        return job.job_class
    if isinstance(job, type) and issubclass(job, Job):
        return job
    raise ConfigurationError(
        f"recurring task {key!r}: the job must be a Job subclass or an @job function, got {job!r}"
    )


def tasks() -> list[RecurringTask]:
    """The registered tasks, by key.

    Example::

        [task.key for task in recurring.tasks()]
    """
    with _lock:
        return [_tasks[key] for key in sorted(_tasks)]


def unregister(key: str) -> None:
    """Forget a registered task (no error if it is unknown)."""
    with _lock:
        _tasks.pop(key, None)


def clear() -> None:
    """Forget every registered task (for tests)."""
    with _lock:
        _tasks.clear()

"""Recurring jobs: run a job on a schedule, each run enqueued once however many
schedulers are up.

Example::

    from activejob import recurring
    recurring.register("nightly-cleanup", CleanupJob, schedule="0 3 * * *", args=(30,),
                       timezone="Europe/Berlin")               # cron syntax
    recurring.register("poll-feeds", poll_feeds, schedule="every 5 minutes")

Or in a TOML file given to ``activejob worker --recurring schedule.toml``. Every
worker supervisor runs the scheduler (:mod:`.scheduler`) unless started with
``--no-scheduler``; ``activejob recurring list | run KEY | pause KEY | resume KEY``
operates the stored tasks. See ``docs/recurring.md``.
"""

from __future__ import annotations

from activejob.recurring.config import load_file, parse_file
from activejob.recurring.schedule import Schedule, ScheduleError, parse_schedule
from activejob.recurring.scheduler import Run, Scheduler
from activejob.recurring.task import RecurringTask, clear, register, tasks, unregister

__all__ = [
    "RecurringTask",
    "Run",
    "Schedule",
    "ScheduleError",
    "Scheduler",
    "clear",
    "load_file",
    "parse_file",
    "parse_schedule",
    "register",
    "tasks",
    "unregister",
]

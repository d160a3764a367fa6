"""``activejob recurring list|run|pause|resume``: the stored recurring tasks.

The tasks are those the schedulers declared (from ``recurring.register`` calls in
the job modules and ``--recurring`` files); pausing and resuming reach every
scheduler at its next tick, without a restart. ``run KEY`` enqueues one job of the
task now, from the stored definition, whatever its schedule (and paused or not).

Example::

    activejob recurring list
    activejob recurring pause nightly-cleanup
    activejob recurring run nightly-cleanup --json
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import Any

from activejob import _time
from activejob.cli.common import (
    FAILED,
    OK,
    add_common_options,
    command,
    format_table,
    format_time,
    print_json,
    storage_from_args,
)
from activejob.errors import ConfigurationError
from activejob.recurring.schedule import parse_schedule
from activejob.storage.base import NewJob, Storage
from activejob.storage.recurring import RecurringTaskInfo

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``recurring`` and its subcommands."""
    parser = subparsers.add_parser("recurring", help="list, run, pause and resume recurring tasks")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="every stored recurring task, orphans included")
    add_common_options(listing)
    listing.set_defaults(func=list_tasks)

    for name, func, help_text in (
        ("run", run_task, "enqueue one job of a task now"),
        ("pause", pause_task, "stop every scheduler enqueueing a task"),
        ("resume", resume_task, "let the schedulers enqueue a paused task again"),
    ):
        action = actions.add_parser(name, help=help_text)
        add_common_options(action)
        action.add_argument("key")
        action.set_defaults(func=func)


@command("recurring list")
def list_tasks(args: argparse.Namespace) -> int:
    """Print every stored task with its schedule, state, last and next run."""
    tasks = storage_from_args(args).recurring_tasks()
    if args.json:
        print_json([{**task.to_dict(), "next_run_at": _next_run(task)} for task in tasks])
        return OK
    headers = ["KEY", "SCHEDULE", "TIMEZONE", "JOB", "QUEUE", "STATE", "LAST RUN", "NEXT RUN"]
    rows = [
        [
            task.key,
            task.schedule,
            task.timezone,
            task.job_class,
            task.queue_name,
            _state(task),
            format_time(task.last_run_at),
            "" if task.paused or task.orphaned else format_time(_next_run(task)),
        ]
        for task in tasks
    ]
    print(format_table(headers, rows))
    return OK


@command("recurring run")
def run_task(args: argparse.Namespace) -> int:
    """Enqueue one job of the task now, from its stored definition."""
    storage = storage_from_args(args)
    task = _find(storage, args.key)
    if task is None:
        return _unknown(args, storage)
    payload = dict(task.payload)
    job_id = str(uuid.uuid4())
    payload["job_id"] = job_id
    payload["enqueued_at"] = _time.utcnow().isoformat()
    payload["metadata"] = {
        **(payload.get("metadata") or {}),
        "recurring": {"key": task.key, "run_at": None},
    }
    new = NewJob(job_id, task.job_class, task.queue_name, task.priority, json.dumps(payload))
    [storage_id] = storage.push([new])
    if args.json:
        print_json({"key": task.key, "job_id": job_id, "provider_job_id": str(storage_id)})
    else:
        print(f"enqueued {job_id} ({task.job_class} on {task.queue_name}) for task {task.key}")
    return OK


@command("recurring pause")
def pause_task(args: argparse.Namespace) -> int:
    """Pause one task in every scheduler."""
    storage = storage_from_args(args)
    if not storage.pause_recurring(args.key):
        return _unknown(args, storage)
    _report(args, "paused")
    return OK


@command("recurring resume")
def resume_task(args: argparse.Namespace) -> int:
    """Resume one paused task in every scheduler."""
    storage = storage_from_args(args)
    if not storage.resume_recurring(args.key):
        return _unknown(args, storage)
    _report(args, "resumed")
    return OK


def _find(storage: Storage, key: str) -> RecurringTaskInfo | None:
    return next((task for task in storage.recurring_tasks() if task.key == key), None)


def _unknown(args: argparse.Namespace, storage: Storage) -> int:
    known = ", ".join(task.key for task in storage.recurring_tasks()) or "none stored yet"
    sys.stderr.write(
        f"activejob recurring {args.action}: error: no recurring task {args.key!r} "
        f"(known: {known})\n"
    )
    return FAILED


def _state(task: RecurringTaskInfo) -> str:
    if task.orphaned:
        return "orphaned"
    return "paused" if task.paused else "active"


def _next_run(task: RecurringTaskInfo) -> Any:
    try:
        schedule = parse_schedule(task.schedule, task.timezone)
    except ConfigurationError:
        return None
    return schedule.next_after(_time.from_timestamp(_time.now()))


def _report(args: argparse.Namespace, done: str) -> None:
    if args.json:
        print_json({"key": args.key, done: True})
    else:
        print(f"{done} recurring task {args.key}")

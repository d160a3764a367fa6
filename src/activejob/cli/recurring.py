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
import sys
from typing import Any

from activejob.cli.common import (
    FAILED,
    OK,
    add_actions,
    add_common_options,
    command,
    format_time,
    print_json,
    print_listing,
    report_done,
    storage_from_args,
)
from activejob.recurring.operate import next_run, run_now, task_state
from activejob.storage.base import Storage

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``recurring`` and its subcommands."""
    parser = subparsers.add_parser("recurring", help="list, run, pause and resume recurring tasks")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="every stored recurring task, orphans included")
    add_common_options(listing)
    listing.set_defaults(func=list_tasks)

    add_actions(
        actions,
        [
            ("run", run_task, "enqueue one job of a task now"),
            ("pause", pause_task, "stop every scheduler enqueueing a task"),
            ("resume", resume_task, "let the schedulers enqueue a paused task again"),
        ],
        "key",
    )


@command("recurring list")
def list_tasks(args: argparse.Namespace) -> int:
    """Print every stored task with its schedule, state, last and next run."""
    tasks = storage_from_args(args).recurring_tasks()
    records = [{**task.to_dict(), "next_run_at": next_run(task)} for task in tasks]
    headers = ["KEY", "SCHEDULE", "TIMEZONE", "JOB", "QUEUE", "STATE", "LAST RUN", "NEXT RUN"]
    rows = [
        [
            task.key,
            task.schedule,
            task.timezone,
            task.job_class,
            task.queue_name,
            task_state(task),
            format_time(task.last_run_at),
            "" if task.paused or task.orphaned else format_time(next_run(task)),
        ]
        for task in tasks
    ]
    return print_listing(args, records, headers, rows)


@command("recurring run")
def run_task(args: argparse.Namespace) -> int:
    """Enqueue one job of the task now, from its stored definition."""
    storage = storage_from_args(args)
    run = run_now(storage, args.key)
    if run is None:
        return _unknown(args, storage)
    if args.json:
        record = {"key": run.key, "job_id": run.job_id, "provider_job_id": str(run.storage_id)}
        print_json({**record, "duplicate_of": run.duplicate_of})
    elif run.duplicate_of:  # flow: unique
        print(f"not enqueued: job {run.duplicate_of} holds the unique key of task {run.key}")
    else:
        print(f"enqueued {run.job_id} ({run.job_class} on {run.queue_name}) for task {run.key}")
    return OK


@command("recurring pause")
def pause_task(args: argparse.Namespace) -> int:
    """Pause one task in every scheduler."""
    storage = storage_from_args(args)
    if not storage.pause_recurring(args.key):
        return _unknown(args, storage)
    report_done(args, "paused", "key", "recurring task")
    return OK


@command("recurring resume")
def resume_task(args: argparse.Namespace) -> int:
    """Resume one paused task in every scheduler."""
    storage = storage_from_args(args)
    if not storage.resume_recurring(args.key):
        return _unknown(args, storage)
    report_done(args, "resumed", "key", "recurring task")
    return OK


def _unknown(args: argparse.Namespace, storage: Storage) -> int:
    known = ", ".join(task.key for task in storage.recurring_tasks()) or "none stored yet"
    sys.stderr.write(
        f"activejob recurring {args.action}: error: no recurring task {args.key!r} "
        f"(known: {known})\n"
    )
    return FAILED

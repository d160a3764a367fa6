"""``activejob jobs list|show|retry|discard``: look at stored jobs and act on them.

Jobs are named by their ``job_id``; ``--all`` acts on every job the filters
(``--queue``, ``--class``, ``--state``) match.

Example::

    activejob jobs list --state failed --queue mailers
    activejob jobs show 0b6c2f9e-...
    activejob jobs retry --all --state failed --class myapp.jobs.SyncJob
    activejob jobs discard 0b6c2f9e-... 51d1...
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from activejob.cli.common import (
    FAILED,
    OK,
    USAGE,
    add_common_options,
    command,
    format_table,
    print_json,
    storage_from_args,
)
from activejob.storage.base import JobFilter, JobInfo, JobState

__all__ = ["register"]

STATES = [state.value for state in JobState]


def register(subparsers: Any) -> None:
    """Add ``jobs`` and its subcommands."""
    parser = subparsers.add_parser("jobs", help="list, show, retry and discard stored jobs")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="jobs, newest first")
    add_common_options(listing)
    _add_filters(listing)
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--offset", type=int, default=0)
    listing.set_defaults(func=list_jobs)

    show = actions.add_parser("show", help="one job, with its payload and last error")
    add_common_options(show)
    show.add_argument("job_id")
    show.set_defaults(func=show_job)

    for name, func, help_text in (
        ("retry", retry_jobs, "make failed or discarded jobs ready again"),
        ("discard", discard_jobs, "discard jobs that are ready, scheduled or failed"),
    ):
        action = actions.add_parser(name, help=help_text)
        add_common_options(action)
        action.add_argument("job_ids", nargs="*", metavar="JOB_ID")
        action.add_argument("--all", action="store_true", help="every job the filters match")
        _add_filters(action)
        action.set_defaults(func=func)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", help="only this queue")
    parser.add_argument("--class", dest="job_class", metavar="CLASS", help="only this job class")
    parser.add_argument(
        "--state",
        dest="states",
        action="append",
        choices=STATES,
        help="only this state (repeatable)",
    )


def _filter(args: argparse.Namespace, *, limit: int | None = None, offset: int = 0) -> JobFilter:
    return JobFilter(
        states=[JobState(s) for s in args.states] if args.states else None,
        queue_name=args.queue,
        job_class=args.job_class,
        job_ids=list(getattr(args, "job_ids", None) or []) or None,
        limit=limit,
        offset=offset,
    )


@command("jobs list")
def list_jobs(args: argparse.Namespace) -> int:
    """Print the jobs that match the filters."""
    jobs = storage_from_args(args).list(_filter(args, limit=args.limit, offset=args.offset))
    if args.json:
        print_json([job.to_dict() for job in jobs])
        return OK
    rows = [
        [
            job.job_id,
            job.job_class,
            job.queue_name,
            job.state.value,
            job.priority,
            job.attempts,
            _when(job),
            _short_error(job),
        ]
        for job in jobs
    ]
    headers = ["JOB ID", "CLASS", "QUEUE", "STATE", "PRIORITY", "ATTEMPTS", "AT", "ERROR"]
    print(format_table(headers, rows))
    return OK


@command("jobs show")
def show_job(args: argparse.Namespace) -> int:
    """Print one job in full."""
    job = storage_from_args(args).get(args.job_id)
    if job is None:
        sys.stderr.write(f"activejob jobs show: no job with id {args.job_id}\n")
        return FAILED
    if args.json:
        print_json(job.to_dict())
        return OK
    data = job.to_dict()
    error = data.pop("error")
    payload = data.pop("payload")
    for key, value in data.items():
        print(f"{key + ':':<14}{'' if value is None else value}")
    if "unreadable_payload" in payload:
        print(f"{'payload:':<14}unreadable: {payload.get('reason', '')}")
    else:
        arguments = f"{payload.get('arguments')!r} {payload.get('kwargs') or ''}"
        print(f"{'arguments:':<14}{arguments}".rstrip())
    if error:
        print(f"{'error:':<14}{error['exception_class']}: {error['message']}")
        if error["traceback"]:
            print(error["traceback"].rstrip())
    return OK


@command("jobs retry")
def retry_jobs(args: argparse.Namespace) -> int:
    """Retry the named jobs, or every match with ``--all``."""
    return _act(args, "retried")


@command("jobs discard")
def discard_jobs(args: argparse.Namespace) -> int:
    """Discard the named jobs, or every match with ``--all``."""
    return _act(args, "discarded")


def _act(args: argparse.Namespace, done: str) -> int:
    if bool(args.job_ids) == bool(args.all):
        sys.stderr.write(f"activejob jobs {args.action}: name job ids, or use --all with filters\n")
        return USAGE
    storage = storage_from_args(args)
    where = _filter(args)
    count = storage.retry(where) if args.action == "retry" else storage.discard(where)
    if args.json:
        print_json({done: count})
    else:
        print(f"{done} {count} job{'s' if count != 1 else ''}")
    if args.job_ids and count < len(set(args.job_ids)):
        return FAILED
    return OK


def _when(job: JobInfo) -> str:
    moment = job.finished_at if job.state.finished else job.run_at
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _short_error(job: JobInfo) -> str:
    if job.error is None:
        return ""
    text = f"{job.error.exception_class.rsplit('.', 1)[-1]}: {job.error.message}"
    text = text.splitlines()[0] if text else text
    return text if len(text) <= 60 else text[:57] + "..."

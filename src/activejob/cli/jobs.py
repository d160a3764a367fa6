"""``activejob jobs list|show|retry|discard|cancel``: look at stored jobs and act on them.

Jobs are named by their ``job_id``, or by a unique prefix of it of at least
:data:`PREFIX_MIN` characters (as git takes short hashes); ``--all`` acts on
every job the filters (``--queue``, ``--class``, ``--state``, and as the dashboard's
listings ``--error``, ``--text``, ``--since``, ``--until``) match, and with no
filter asks first (``--yes`` answers for scripts). Times are printed in UTC.

Example::

    activejob jobs list --state failed --queue mailers
    activejob jobs show 0b6c2f9e
    activejob jobs retry --all --state failed --class myapp.jobs.SyncJob
    activejob jobs discard --all --state failed --error app.Timeout --since 2h
    activejob jobs discard 0b6c2f9e 51d1
    activejob jobs cancel 0b6c2f9e
    activejob jobs run-now 0b6c2f9e        # a scheduled job, ready at once
    activejob jobs blocked                 # the concurrency keys blocked jobs wait for
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from activejob.cli import blocked
from activejob.cli.common import (
    FAILED,
    OK,
    USAGE,
    add_common_options,
    command,
    format_table,
    format_time,
    print_json,
    storage_from_args,
)
from activejob.errors import JobNotFound
from activejob.storage.base import JobFilter, JobInfo, JobState, Storage
from activejob.storage.bulk import ACTS_ON

__all__ = ["PREFIX_MIN", "register"]

STATES = [state.value for state in JobState]
PREFIX_MIN = 4
"""The shortest job-id prefix taken for a job id (a full id of any length works)."""
SHOWN_CANDIDATES = 5
"""How many jobs an ambiguous prefix names."""


def register(subparsers: Any) -> None:
    """Add ``jobs`` and its subcommands."""
    parser = subparsers.add_parser("jobs", help="list, show, retry and discard stored jobs")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="jobs, newest first")
    add_common_options(listing)
    _add_filters(listing)
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--offset", type=int, default=0)
    _add_search_filters(listing)
    listing.add_argument(
        "--before", metavar="ID", type=int, help="jobs older than this storage id (a page cursor)"
    )
    listing.set_defaults(func=list_jobs)

    show = actions.add_parser("show", help="one job, with its payload and last error")
    add_common_options(show)
    show.add_argument("job_id", help=f"a job id, or a unique prefix of >= {PREFIX_MIN} characters")
    show.set_defaults(func=show_job)

    for name, func, help_text in (
        ("retry", retry_jobs, "make failed or discarded jobs ready again"),
        ("discard", discard_jobs, "discard jobs that are ready, scheduled, blocked or failed"),
    ):
        action = actions.add_parser(name, help=help_text)
        add_common_options(action)
        action.add_argument(
            "job_ids",
            nargs="*",
            metavar="JOB_ID",
            help=f"job ids, or unique prefixes of >= {PREFIX_MIN} characters",
        )
        action.add_argument("--all", action="store_true", help="every job the filters match")
        action.add_argument(
            "--yes", "-y", action="store_true", help="with --all and no filter, do not ask"
        )
        _add_filters(action)
        _add_search_filters(action)
        action.set_defaults(func=func)

    # flow: cancellation
    cancelling = actions.add_parser(
        "cancel", help="discard a waiting job, or ask a running one to stop"
    )
    add_common_options(cancelling)
    cancelling.add_argument(
        "job_id", help=f"a job id, or a unique prefix of >= {PREFIX_MIN} characters"
    )
    cancelling.set_defaults(func=cancel_job)
    run_now = actions.add_parser("run-now", help="make scheduled jobs ready to run at once")
    add_common_options(run_now)
    run_now.add_argument(
        "job_ids",
        nargs="+",
        metavar="JOB_ID",
        help=f"job ids, or unique prefixes of >= {PREFIX_MIN} characters",
    )
    run_now.set_defaults(func=run_jobs_now)
    blocked.register(actions)  # flow: concurrency


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


def _add_search_filters(parser: argparse.ArgumentParser) -> None:
    """The filters no index serves, as the dashboard's listings offer them."""
    parser.add_argument("--error", metavar="CLASS", help="only jobs whose last error is CLASS")
    parser.add_argument("--text", help="only jobs whose payload (arguments) contains TEXT")
    parser.add_argument("--since", help="created since: 90m, 2h, 3d ago, or an ISO date/time")
    parser.add_argument("--until", help="created before: 90m, 2h, 3d ago, or an ISO date/time")


SEARCHES = ("error", "text", "since", "until")
"""The ``--all`` options found page by page (:mod:`activejob.storage.bulk`)."""


def _filter(args: argparse.Namespace, *, limit: int | None = None, offset: int = 0) -> JobFilter:
    return JobFilter(
        states=[JobState(s) for s in args.states] if args.states else None,
        queue_name=args.queue,
        job_class=args.job_class,
        limit=limit,
        offset=offset,
    )


@command("jobs list")
def list_jobs(args: argparse.Namespace) -> int:
    """Print the jobs that match the filters."""
    if any(getattr(args, name) is not None for name in BROWSE_OPTIONS):
        return _browse_jobs(args)
    jobs = storage_from_args(args).list(_filter(args, limit=args.limit, offset=args.offset))
    if args.json:
        print_json([job.to_dict() for job in jobs])
        return OK
    _print_jobs(jobs)
    return OK


BROWSE_OPTIONS = ("error", "text", "since", "until", "before")
"""``jobs list`` options answered by ``Storage.browse`` (the dashboard's listing)."""


def _browse_jobs(args: argparse.Namespace) -> int:
    """The dashboard's listing: keyset pages, filters within a bounded window."""
    from activejob.storage.browse import JobQuery, parse_time

    if args.states and len(args.states) > 1:
        sys.stderr.write(
            "activejob jobs list: --error/--text/--since/--until/--before take one --state\n"
        )
        return USAGE
    if args.offset:
        sys.stderr.write("activejob jobs list: --before pages these listings, not --offset\n")
        return USAGE
    try:
        query = JobQuery(
            state=JobState(args.states[0]) if args.states else None,
            queue_name=args.queue,
            job_class=args.job_class,
            error_class=args.error,
            text=args.text,
            created_after=None if args.since is None else parse_time(args.since),
            created_before=None if args.until is None else parse_time(args.until),
            before=args.before,
            limit=args.limit,
        )
        page = storage_from_args(args).browse(query)
    except ValueError as exc:
        sys.stderr.write(f"activejob jobs list: {exc}\n")
        return USAGE
    if args.json:
        print_json(
            {
                "jobs": [job.to_dict() for job in page.jobs],
                "next_before": page.next_before,
                "window_full": page.window_full,
            }
        )
        return OK
    _print_jobs(page.jobs)
    if page.next_before is not None:
        searched = f"searched {query.scan:,} jobs; " if page.window_full else ""
        sys.stderr.write(f"{searched}older jobs: --before {page.next_before}\n")
    return OK


def _print_jobs(jobs: Sequence[JobInfo]) -> None:
    rows = [
        [
            job.job_id,
            job.job_class,
            job.queue_name,
            job.state.value,
            job.priority,
            job.attempts,
            format_time(job.finished_at if job.state.finished else job.run_at),
            _short_error(job),
        ]
        for job in jobs
    ]
    headers = ["JOB ID", "CLASS", "QUEUE", "STATE", "PRIORITY", "ATTEMPTS", "AT", "ERROR"]
    print(format_table(headers, rows))


@command("jobs show")
def show_job(args: argparse.Namespace) -> int:
    """Print one job in full."""
    matches = _matches(storage_from_args(args), args.job_id)
    if len(matches) != 1:
        _refuse(args, args.job_id, matches)
        return FAILED
    [job] = matches
    if args.json:
        print_json(job.to_dict())
        return OK
    data = job.to_dict()
    error = data.pop("error")
    payload = data.pop("payload")
    cancel_pending = data.pop("cancel_requested", False)  # flow: cancellation
    data.update({key: format_time(getattr(job, key)) for key in data if key.endswith("_at")})
    for key, value in data.items():
        print(f"{key + ':':<14}{'' if value is None else value}")
    if cancel_pending:
        print(f"{'cancel:':<14}pending: asked to stop; its worker stops it at its next checkpoint")
    if job.rate_limited_until is not None:  # flow: rate limits
        print(f"{'waiting:':<14}rate limited until {format_time(job.rate_limited_until)}")
    if "unreadable_payload" in payload:
        print(f"{'payload:':<14}unreadable: {payload.get('reason', '')}")
    else:
        arguments = f"{payload.get('arguments')!r} {payload.get('kwargs') or ''}"
        print(f"{'arguments:':<14}{arguments}".rstrip())
    if job.state is JobState.BLOCKED:  # flow: concurrency
        print(f"{'waiting:':<14}for a slot of concurrency key {job.blocked_by!r}")
    if error:
        print(f"{'error:':<14}{error['exception_class']}: {error['message']}")
        if error["traceback"]:
            print(error["traceback"].rstrip())
    return OK


@command("jobs cancel")
def cancel_job(args: argparse.Namespace) -> int:
    """Cancel one job (flow: cancellation): exit 0 when it is discarded or asked to
    stop, 1 when it had finished, 2 when no job has that id."""
    storage = storage_from_args(args)
    matches = _matches(storage, args.job_id)
    if len(matches) != 1:
        _refuse(args, args.job_id, matches)
        return USAGE if not matches else FAILED
    try:
        done = storage.cancel(matches[0].job_id)
    except JobNotFound as exc:  # pruned since it was found
        _warn(args, str(exc))
        return USAGE
    if args.json:
        print_json(done.to_dict())
    elif done.outcome == "discarded":
        print(f"cancelled {done.job_id}: discarded (it was {done.state.value})")
    elif done.outcome == "requested":
        print(
            f"cancel requested for {done.job_id} (running): its worker stops it at its next "
            "checkpoint and it ends discarded"
        )
    else:
        _warn(args, f"{done.job_id} not cancelled: it had finished ({done.state.value})")
    return FAILED if done.outcome == "finished" else OK


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
    if args.job_ids and any(getattr(args, name) is not None for name in SEARCHES):
        sys.stderr.write(
            f"activejob jobs {args.action}: --error/--text/--since/--until go with --all\n"
        )
        return USAGE
    storage = storage_from_args(args)
    if args.all:
        return _act_on_all(args, storage, done)
    return _act_on_ids(args, storage, done)


def _act_on_all(args: argparse.Namespace, storage: Storage, done: str) -> int:
    """Every job the filters match, whichever they are; says which in words."""
    from activejob.storage.browse import JobQuery, parse_time
    from activejob.storage.bulk import act_on_matching, describe

    try:
        queries = [
            JobQuery(
                state=None if state is None else JobState(state),
                queue_name=args.queue,
                job_class=args.job_class,
                error_class=args.error,
                text=args.text,
                created_after=None if args.since is None else parse_time(args.since),
                created_before=None if args.until is None else parse_time(args.until),
            )
            for state in (args.states or [None])
        ]
    except ValueError as exc:
        _warn(args, str(exc))
        return USAGE
    if not _confirmed(args, storage):
        return FAILED
    count = sum(act_on_matching(storage, query, args.action) for query in queries)
    matching = [describe(query, args.action) for query in queries]
    if args.json:
        print_json({done: count, "matching": matching})
    else:
        _print_count(done, count)
        sys.stderr.write(f"matching: {'; '.join(matching)}\n")  # stdout: the count alone
    return OK


def _act_on_ids(args: argparse.Namespace, storage: Storage, done: str) -> int:
    """Resolve every named id first (an ambiguous one stops everything), then act on
    each job alone, so the ids that were not changed can be named."""
    named: dict[str, JobInfo] = {}
    unmatched: list[str] = []
    for given in dict.fromkeys(args.job_ids):
        matches = _matches(storage, given)
        if len(matches) > 1:
            _refuse(args, given, matches)
            return FAILED
        if matches:
            named.setdefault(matches[0].job_id, matches[0])
        else:
            unmatched.append(given)
    changed: list[str] = []
    skipped: list[str] = []
    for job_id, info in named.items():
        where = dataclasses.replace(_filter(args), job_ids=[job_id])
        if _apply(storage, args.action, where):
            changed.append(job_id)
        else:
            skipped.append(job_id)
            _warn(args, f"{job_id} not {done} (it is {info.state.value})")
    for given in unmatched:
        _warn(args, f"no job matches {given}")
    if args.json:
        print_json(
            {done: len(changed), "job_ids": changed, "skipped": skipped, "unmatched": unmatched}
        )
    else:
        _print_count(done, len(changed))
    return FAILED if skipped or unmatched else OK


@command("jobs run-now")
def run_jobs_now(args: argparse.Namespace) -> int:
    """Make the named scheduled jobs ready now (the dashboard's "Run now")."""
    storage = storage_from_args(args)
    named: list[JobInfo] = []
    unmatched: list[str] = []
    for given in dict.fromkeys(args.job_ids):
        matches = _matches(storage, given)
        if len(matches) > 1:
            _refuse(args, given, matches)
            return FAILED
        if matches:
            named.append(matches[0])
        else:
            unmatched.append(given)
            _warn(args, f"no job matches {given}")
    ran: list[str] = []
    skipped: list[str] = []
    for info in named:
        if storage.run_now(info.job_id):
            ran.append(info.job_id)
        else:
            skipped.append(info.job_id)
            _warn(args, f"{info.job_id} not run now (it is {info.state.value}, not scheduled)")
    if args.json:
        print_json({"ran": len(ran), "job_ids": ran, "skipped": skipped, "unmatched": unmatched})
    else:
        _print_count("made ready", len(ran))
    return FAILED if skipped or unmatched else OK


def _apply(storage: Storage, action: str, where: JobFilter) -> int:
    return storage.retry(where) if action == "retry" else storage.discard(where)


def _matches(storage: Storage, given: str) -> list[JobInfo]:
    """The jobs ``given`` names: the job with that exact id, else the newest row of
    each job whose id starts with it (for a prefix of at least PREFIX_MIN)."""
    exact = storage.get(given)
    if exact is not None:
        return [exact]
    if len(given) < PREFIX_MIN:
        return []
    found: dict[str, JobInfo] = {}
    for info in storage.list(JobFilter(job_id_prefix=given, limit=50)):
        # A third-party storage that ignores job_id_prefix must not make a prefix
        # stand for whatever job it lists.
        if info.job_id.startswith(given):
            found.setdefault(info.job_id, info)
    return list(found.values())


def _refuse(args: argparse.Namespace, given: str, matches: Sequence[JobInfo]) -> None:
    if not matches:
        short = f" (a prefix needs at least {PREFIX_MIN} characters)"
        _warn(args, f"no job with id {given}{short if len(given) < PREFIX_MIN else ''}")
        return
    names = ", ".join(info.job_id for info in matches[:SHOWN_CANDIDATES])
    more = len(matches) - SHOWN_CANDIDATES
    names += f" and {more} more" if more > 0 else ""
    _warn(args, f"job id prefix {given} is ambiguous, it matches {names}; give more of the id")


def _confirmed(args: argparse.Namespace, storage: Storage) -> bool:
    """``--all`` with no filter acts on the whole store: ask on a terminal, else
    require ``--yes``."""
    if args.yes or args.queue or args.job_class or args.states:
        return True
    if any(getattr(args, name) is not None for name in SEARCHES):
        return True
    states = ACTS_ON[args.action]
    count = sum(queue.counts.get(state, 0) for queue in storage.queues() for state in states)
    if count == 0:
        return True
    words = ", ".join(state.value for state in states[:-1]) + f" and {states[-1].value}"
    question = f"{args.action} all {count:,} {words} jobs"
    if not sys.stdin.isatty():
        _warn(args, f"--all with no filter would {question}; add --yes to confirm")
        return False
    sys.stderr.write(f"{question}? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() in ("y", "yes"):
        return True
    _warn(args, "nothing done")
    return False


def _warn(args: argparse.Namespace, message: str) -> None:
    sys.stderr.write(f"activejob jobs {args.action}: {message}\n")


def _print_count(done: str, count: int) -> None:
    print(f"{done} {count} job{'s' if count != 1 else ''}")


def _short_error(job: JobInfo) -> str:
    if job.state is JobState.BLOCKED:  # flow: concurrency: what it waits for
        return f"blocked by {job.blocked_by}"
    if job.error is None:
        return ""
    text = f"{job.error.exception_class.rsplit('.', 1)[-1]}: {job.error.message}"
    text = text.splitlines()[0] if text else text
    return text if len(text) <= 60 else text[:57] + "..."

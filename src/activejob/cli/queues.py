"""``activejob queues list|pause|resume``: queues, their jobs by state, and pausing.

A paused queue still takes jobs; workers just do not claim from it until it is
resumed.

Example::

    activejob queues list
    activejob queues pause mailers
    activejob queues resume mailers
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from activejob.cli.common import (
    OK,
    add_actions,
    add_common_options,
    command,
    print_listing,
    report_done,
    storage_from_args,
)
from activejob.storage.base import JobState

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``queues`` and its subcommands."""
    parser = subparsers.add_parser("queues", help="list, pause and resume queues")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="every queue with its jobs by state")
    add_common_options(listing)
    listing.set_defaults(func=list_queues)

    add_actions(
        actions,
        [
            ("pause", pause_queue, "stop workers claiming from a queue"),
            ("resume", resume_queue, "let workers claim from a paused queue again"),
        ],
        "queue",
    )


@command("queues list")
def list_queues(args: argparse.Namespace) -> int:
    """Print every queue, paused or not, with its counts by state."""
    queues = storage_from_args(args).queues()
    records = [
        {
            "name": q.name,
            "paused": q.paused,
            "counts": {state.value: q.counts.get(state, 0) for state in JobState},
        }
        for q in queues
    ]
    headers = ["QUEUE", "PAUSED", *(state.value.upper() for state in JobState)]
    rows = [
        [q.name, "yes" if q.paused else "no", *(q.counts.get(state, 0) for state in JobState)]
        for q in queues
    ]
    return print_listing(args, records, headers, rows)


@command("queues pause")
def pause_queue(args: argparse.Namespace) -> int:
    """Pause one queue; warn when no job has ever been seen on it (a typo?)."""
    storage = storage_from_args(args)
    if args.queue not in {queue.name for queue in storage.queues()}:
        sys.stderr.write(
            f"activejob queues pause: warning: queue {args.queue!r} has no jobs yet; "
            "pausing it anyway\n"
        )
    storage.pause(args.queue)
    report_done(args, "paused", "queue", "queue")
    return OK


@command("queues resume")
def resume_queue(args: argparse.Namespace) -> int:
    """Resume one queue."""
    storage_from_args(args).resume(args.queue)
    report_done(args, "resumed", "queue", "queue")
    return OK

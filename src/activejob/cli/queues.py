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
    add_common_options,
    command,
    format_table,
    print_json,
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

    for name, func, help_text in (
        ("pause", pause_queue, "stop workers claiming from a queue"),
        ("resume", resume_queue, "let workers claim from a paused queue again"),
    ):
        action = actions.add_parser(name, help=help_text)
        add_common_options(action)
        action.add_argument("queue")
        action.set_defaults(func=func)


@command("queues list")
def list_queues(args: argparse.Namespace) -> int:
    """Print every queue, paused or not, with its counts by state."""
    queues = storage_from_args(args).queues()
    if args.json:
        print_json(
            [
                {
                    "name": q.name,
                    "paused": q.paused,
                    "counts": {state.value: q.counts.get(state, 0) for state in JobState},
                }
                for q in queues
            ]
        )
        return OK
    headers = ["QUEUE", "PAUSED", *(state.value.upper() for state in JobState)]
    rows = [
        [q.name, "yes" if q.paused else "no", *(q.counts.get(state, 0) for state in JobState)]
        for q in queues
    ]
    print(format_table(headers, rows))
    return OK


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
    _report(args, "paused")
    return OK


@command("queues resume")
def resume_queue(args: argparse.Namespace) -> int:
    """Resume one queue."""
    storage_from_args(args).resume(args.queue)
    _report(args, "resumed")
    return OK


def _report(args: argparse.Namespace, done: str) -> None:
    if args.json:
        print_json({"queue": args.queue, done: True})
    else:
        print(f"{done} queue {args.queue}")

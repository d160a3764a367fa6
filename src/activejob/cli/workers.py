"""``activejob workers``: the workers that are heartbeating, and what they run.

Each worker process is listed with its host, pid, queues, how many jobs it holds
(running, or claimed and about to start) and its last heartbeat, in UTC. A worker
that stopped cleanly is gone at once; one that died stays listed, its heartbeat
getting older, until another worker's recovery releases its jobs.

Example::

    activejob workers --adapter sqlite:///jobs.sqlite3
    activejob workers --json
"""

from __future__ import annotations

import argparse
from typing import Any

from activejob.cli.common import (
    OK,
    add_common_options,
    command,
    format_table,
    format_time,
    print_json,
    storage_from_args,
)

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``workers``."""
    parser = subparsers.add_parser("workers", help="list live workers and what they run")
    add_common_options(parser)
    parser.set_defaults(func=list_workers)


@command("workers")
def list_workers(args: argparse.Namespace) -> int:
    """Print every live worker, most recent heartbeat first."""
    workers = [_describe(entry) for entry in storage_from_args(args).workers()]
    if args.json:
        print_json(workers)
        return OK
    if not workers:
        print("no live workers")
        return OK
    headers = ["WORKER", "HOST", "PID", "QUEUES", "RUNNING", "STARTED", "HEARTBEAT"]
    rows = [
        [
            worker["id"],
            worker["hostname"],
            worker["pid"],
            ",".join(worker["queues"]),
            worker["running"],
            format_time(worker["started_at"]),
            format_time(worker["heartbeat_at"]),
        ]
        for worker in workers
    ]
    print(format_table(headers, rows))
    return OK


def _describe(entry: dict[str, Any]) -> dict[str, Any]:
    """One worker as the command shows it: ``running`` is a count, the job ids follow
    under ``running_job_ids``; info a worker did not send reads as ``None``."""
    running = list(entry.get("running") or [])
    queues = entry.get("queues")
    return {
        "id": entry["id"],
        "hostname": entry.get("hostname"),
        "pid": entry.get("pid"),
        "queues": [str(q) for q in queues] if isinstance(queues, list) else [],
        "threads": entry.get("threads"),
        "running": len(running),
        "running_job_ids": running,
        "started_at": entry.get("started_at"),
        "heartbeat_at": entry.get("heartbeat_at"),
    }

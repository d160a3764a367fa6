"""``activejob worker``: run the supervisor and its worker processes.

Example::

    activejob worker --adapter sqlite:///jobs.sqlite3 --import myapp.jobs \\
        --queues "critical,default,*" --threads 8 --processes 2

Exit status: 0 after a drain (or a finished ``--burst``), 1 when worker
processes kept crashing, 2 for a configuration error (bad flag, adapter or job
module), 130 after a second SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from activejob.cli.common import add_common_options, check_adapter_url, job_modules
from activejob.errors import ConfigurationError
from activejob.worker.options import WorkerOptions, parse_queues
from activejob.worker.supervisor import CONFIG_ERROR, ChildSpec, Supervisor

__all__ = ["add_arguments", "options_from", "register", "run"]

DEFAULTS = WorkerOptions()


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``worker`` command to the ``activejob`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "worker",
        help="run jobs from a durable backend",
        description="Run jobs: a supervisor with worker processes. See docs/worker.md.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The worker's flags."""
    add_common_options(parser, json_output=False)
    _add_capacity_flags(parser)
    _add_safety_flags(parser)
    add = parser.add_argument
    add("--burst", action="store_true", help="drain the queues, then exit")
    add(
        "--burst-horizon",
        type=float,
        default=DEFAULTS.burst_horizon,
        metavar="SECONDS",
        help=_d("with --burst, wait for scheduled jobs due within this long"),
    )
    add("--log-level", default="INFO", metavar="LEVEL", help=_d("DEBUG, INFO, WARNING, ..."))
    add(
        "--recurring",
        action="append",
        default=[],
        metavar="FILE",
        help="a TOML file of recurring tasks for the scheduler (repeatable); see docs/recurring.md",
    )
    add(
        "--no-scheduler",
        action="store_true",
        help="do not run the recurring-task scheduler in this supervisor",
    )


def _add_capacity_flags(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--queues",
        default="*",
        metavar="LIST",
        help='queues in order of preference, e.g. "critical,default,*" (default: *)',
    )
    add(
        "--threads", type=int, default=DEFAULTS.threads, metavar="N", help=_d("threads per process")
    )
    add("--processes", type=int, default=1, metavar="N", help=_d("worker processes"))
    add(
        "--async-concurrency",
        type=int,
        default=DEFAULTS.async_concurrency,
        metavar="N",
        help=_d("async jobs running at once per process"),
    )
    add(
        "--prefetch",
        type=int,
        metavar="N",
        help="jobs claimed beyond free slots (default: --threads)",
    )
    add(
        "--max-prefetch",
        type=int,
        metavar="N",
        help="with the default prefetch, how far it may grow under a backlog "
        "(default: 20 x --threads)",
    )
    add(
        "--poll-interval",
        type=float,
        default=DEFAULTS.poll_interval,
        metavar="SECONDS",
        help=_d("longest wait between claims when nothing signals new jobs"),
    )


def _add_safety_flags(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--heartbeat-interval",
        type=float,
        default=DEFAULTS.heartbeat_interval,
        metavar="SECONDS",
        help=_d("heartbeat and recovery period"),
    )
    add(
        "--recover-after",
        type=float,
        default=DEFAULTS.recover_after,
        metavar="SECONDS",
        help=_d("release the jobs of a worker silent this long"),
    )
    add(
        "--max-crashes",
        type=int,
        default=DEFAULTS.max_crashes,
        metavar="N",
        help=_d("fail a job whose worker died while running it more often than this"),
    )
    add(
        "--shutdown-timeout",
        type=float,
        default=DEFAULTS.shutdown_timeout,
        metavar="SECONDS",
        help=_d("on SIGTERM, how long running jobs may take before they are released"),
    )
    add(  # flow: timeouts
        "--timeout-grace",
        type=float,
        default=DEFAULTS.timeout_grace,
        metavar="SECONDS",
        help=_d(
            "a job this long past its timeout that has not returned (a sync job that "
            "never calls checkpoint()) is recorded as timed out and its process replaced"
        ),
    )
    add(
        "--retention",
        type=float,
        metavar="SECONDS",
        help="prune finished jobs older than this (default: the backend's keep_finished)",
    )


def _d(text: str) -> str:
    return f"{text} (default: %(default)s)"


def run(args: argparse.Namespace) -> int:
    """Run the worker the parsed flags describe; returns the exit status."""
    level = logging.getLevelName(str(args.log_level).upper())
    if not isinstance(level, int):
        sys.stderr.write(f"activejob worker: unknown log level {args.log_level!r}\n")
        return CONFIG_ERROR
    logging.basicConfig(
        level=level, format=f"%(asctime)s [{os.getpid()}] %(levelname)s %(name)s: %(message)s"
    )
    try:
        check_adapter_url(args.adapter)
        if args.adapter:
            # Jobs enqueued by jobs, and the worker processes, use the same backend.
            os.environ["ACTIVEJOB_ADAPTER"] = args.adapter
        spec = ChildSpec(
            args.adapter,
            options_from(args),
            args.burst,
            level,
            scheduler=not args.no_scheduler,
            recurring_files=tuple(_recurring_files(args.recurring)),
        )
        if args.processes < 1:
            raise ConfigurationError("--processes must be at least 1")
    except (ConfigurationError, ValueError) as exc:
        sys.stderr.write(f"activejob worker: {exc}\n")
        return CONFIG_ERROR
    return Supervisor(spec, args.processes).run()


def _recurring_files(paths: list[str]) -> list[str]:
    """The ``--recurring`` files as absolute paths, each checked to be readable TOML
    here, so a typo exits 2 before any process starts."""
    from activejob.recurring.config import read_file

    found = []
    for path in paths:
        absolute = os.path.abspath(path)
        read_file(absolute)
        found.append(absolute)
    return found


def options_from(args: argparse.Namespace) -> WorkerOptions:
    """The :class:`WorkerOptions` the flags describe."""
    return WorkerOptions(
        queues=parse_queues(args.queues),
        threads=args.threads,
        async_concurrency=args.async_concurrency,
        prefetch=args.prefetch,
        max_prefetch=args.max_prefetch,
        poll_interval=args.poll_interval,
        heartbeat_interval=args.heartbeat_interval,
        recover_after=args.recover_after,
        max_crashes=args.max_crashes,
        shutdown_timeout=args.shutdown_timeout,
        timeout_grace=args.timeout_grace,
        retention=args.retention,
        burst_horizon=args.burst_horizon,
        imports=tuple(job_modules(args.imports)),
    )

"""``activejob top``: a live terminal view of the queues and the workers.

A full-screen ``curses`` view (the standard library's, so nothing to install),
redrawn every ``--interval`` seconds from the same storage calls the dashboard's
overview makes: each queue's ready, scheduled, running and failed jobs and its
latency, the jobs finished in the last minutes, and every live worker with its host,
pid, jobs and last heartbeat. ``q`` quits, any other key redraws at once. Without a
terminal it says to use ``activejob queues list --json`` instead.

Example::

    activejob top --adapter postgresql://localhost/app --interval 1
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from activejob import _time
from activejob.cli.common import OK, USAGE, add_common_options, command, storage_from_args
from activejob.storage.base import JobState, QueueInfo, Storage

__all__ = ["register", "screen_lines"]

SHOWN = (JobState.READY, JobState.SCHEDULED, JobState.RUNNING, JobState.FAILED)
MINUTES = 5
"""Minutes of throughput shown in the header."""


def register(subparsers: Any) -> None:
    """Add ``top``."""
    parser = subparsers.add_parser("top", help="a live terminal view of queues and workers")
    add_common_options(parser, json_output=False)
    parser.add_argument(
        "--interval", type=float, default=2.0, help="seconds between redraws (default 2)"
    )
    parser.set_defaults(func=top)


def _count(queue: QueueInfo, state: JobState) -> str:
    return f"{queue.counts.get(state, 0):,}" + ("+" if state in queue.capped else "")


def _age(moment: datetime | None, now: float) -> str:
    if moment is None:
        return ""
    from activejob.dashboard.present import show_duration

    return show_duration(now - moment.timestamp())


def screen_lines(
    storage: Storage,
    queues: Sequence[QueueInfo],
    workers: Sequence[dict[str, Any]],
    finished: Sequence[int],
    now: float,
) -> list[str]:
    """The text of one screen (without the key hint), widest lines first cut by curses."""
    stamp = _time.from_timestamp(now).strftime("%H:%M:%S UTC")
    lines = [
        f"activejob top  {storage.describe()}  {stamp}",
        f"finished in the last {len(finished)} min: {sum(finished):,}"
        f"  (per minute: {' '.join(str(n) for n in finished)})",
        "",
        f"{'QUEUE':<24}" + "".join(f"{s.value.upper():>11}" for s in SHOWN) + f"{'LATENCY':>11}",
    ]
    for queue in queues:
        name = queue.name + (" (paused)" if queue.paused else "")
        cells = "".join(f"{_count(queue, state):>11}" for state in SHOWN)
        lines.append(f"{name:<24}{cells}{_age(queue.oldest_ready_at, now):>11}")
    if not queues:
        lines.append("(no queues yet)")
    lines += ["", f"{'WORKER':<34}{'HOST':<16}{'PID':>8}{'JOBS':>6}{'HEARTBEAT':>12}"]
    for worker in workers:
        lines.append(
            f"{worker['id']!s:<34}{worker.get('hostname', '')!s:<16}"
            f"{worker.get('pid', '')!s:>8}{len(worker.get('running', [])):>6}"
            f"{_age(worker.get('heartbeat_at'), now) + ' ago':>12}"
        )
    if not workers:
        lines.append("(no live workers)")
    return lines


def _read(storage: Storage) -> list[str]:
    activity = storage.activity(minutes=MINUTES)
    return screen_lines(
        storage, storage.queues(), storage.workers(), activity.finished, _time.now()
    )


def _loop(window: Any, storage: Storage, interval: float) -> None:
    import curses

    curses.curs_set(0)
    window.timeout(max(int(interval * 1000), 100))
    while True:
        lines = _read(storage)
        height, width = window.getmaxyx()
        window.erase()
        for row, text in enumerate(lines[: height - 1]):
            window.addnstr(row, 0, text, width - 1)
        window.addnstr(height - 1, 0, "q quits, any other key redraws", width - 1, curses.A_DIM)
        window.refresh()
        key = window.getch()
        if key in (ord("q"), ord("Q")):
            return


@command("top")
def top(args: argparse.Namespace) -> int:
    """Show the live view until ``q``."""
    if args.interval <= 0:
        sys.stderr.write("activejob top: --interval takes a number of seconds > 0\n")
        return USAGE
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        sys.stderr.write(
            "activejob top: needs a terminal; for scripts use `activejob queues list --json`"
            " and `activejob workers --json`\n"
        )
        return USAGE
    try:
        import curses
    except ImportError:  # Windows' Python has no curses
        sys.stderr.write("activejob top: this Python has no curses module\n")
        return USAGE
    storage = storage_from_args(args)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C quits as q does
        curses.wrapper(_loop, storage, args.interval)
    return OK

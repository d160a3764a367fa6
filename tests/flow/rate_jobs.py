"""Jobs of the rate-limit tests, imported by the worker processes they start.

Each run appends ``label pid time`` to the ledger file it is given (one ``write``
of one line with ``O_APPEND``, so lines of several processes never interleave).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from activejob import Job, rate_limit

PER = 1.0
"""The window of :class:`Limited`, seconds."""
N = 3
"""Starts of :class:`Limited` allowed per window."""


def note(ledger: str, label: str) -> None:
    line = f"{label} {os.getpid()} {time.time():.6f}\n".encode()
    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@rate_limit(N, per=timedelta(seconds=PER), key="ledger")
class Limited(Job):
    """At most N starts per second, across every worker."""

    def perform(self, ledger: str, label: str) -> None:
        note(ledger, label)


@rate_limit(2, per=timedelta(seconds=3), key="slow")
class SlowLimited(Job):
    """At most 2 starts per 3 s; each run takes a while (a worker may die in it)."""

    def perform(self, ledger: str, label: str) -> None:
        note(ledger, label)
        time.sleep(1.0)  # sleep-ok: the job's own work, long enough to be killed in


@rate_limit(1, per=timedelta(minutes=1), key="minute")
class OncePerMinute(Job):
    """One start per minute: the second job waits."""

    def perform(self, ledger: str, label: str) -> None:
        note(ledger, label)


@rate_limit(1, per=timedelta(seconds=1.5), key="wake")
class WakesOnTime(Job):
    """One start per 1.5 s: a worker must wake when the window frees."""

    def perform(self, ledger: str, label: str) -> None:
        note(ledger, label)

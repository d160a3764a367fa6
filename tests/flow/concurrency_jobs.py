"""Jobs the concurrency tests' worker processes import (``--import``): each run
appends its start and end to a ledger file, so the test can prove how many ran at
once per key."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path

from activejob import Job, limits_concurrency


def note(ledger: str, what: str, tag: str, key: str) -> None:
    """One ledger line: ``start|end tag key epoch pid`` (a short O_APPEND write, whole)."""
    line = f"{what} {tag} {key} {time.time():.6f} {os.getpid()}\n"
    with open(ledger, "a") as out:
        out.write(line)


@limits_concurrency(to=2, key=lambda account, **_: account, duration=timedelta(minutes=5))
class TwoPerAccount(Job):
    """At most two per account run at once."""

    def perform(self, account: str, ledger: str, hold: float, tag: str) -> None:
        note(ledger, "start", tag, account)
        threading.Event().wait(hold)  # the work: being busy for `hold` seconds
        note(ledger, "end", tag, account)


@limits_concurrency(to=1, key=lambda account, **_: account, duration=timedelta(minutes=5))
class OnePerAccount(Job):
    """One per account at a time; with ``until``, runs until that file exists."""

    def perform(self, account: str, ledger: str, tag: str, until: str = "") -> None:
        note(ledger, "start", tag, account)
        while until and not Path(until).exists():
            threading.Event().wait(0.01)
        note(ledger, "end", tag, account)

"""Jobs the bridge tests run in a foreign worker (``rq worker``, ``huey_consumer``).

Each job appends a line to the ledger file named by ``AJ_BRIDGE_LEDGER``, so the test
process counts exactly how often a job body ran, in whichever process it ran.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from activejob import Job, discard_on, retry_on


class Flaky(Exception):
    """Raised by FlakyJob until its last planned failure."""


class Gone(Exception):
    """Raised by GoneJob, which discards on it."""


def write(line: str) -> None:
    """One line in the ledger: ``<tag> <what> <time>``."""
    with open(os.environ["AJ_BRIDGE_LEDGER"], "a", encoding="utf-8") as ledger:
        ledger.write(f"{line} {time.time():.6f}\n")


def lines(ledger: Path, tag: str) -> list[list[str]]:
    """The ledger lines of ``tag``, split into words."""
    if not ledger.exists():
        return []
    rows = [line.split() for line in ledger.read_text(encoding="utf-8").splitlines()]
    return [row for row in rows if row and row[0] == tag]


class LedgerJob(Job):
    """Writes ``<tag> ran``."""

    def perform(self, tag: str) -> None:
        write(f"{tag} ran")


@retry_on(Flaky, wait=0, attempts=3, jitter=0)
class FlakyJob(Job):
    """Fails its first ``failures`` executions, then succeeds; three attempts in all."""

    def perform(self, tag: str, failures: int) -> None:
        write(f"{tag} try{self.executions}")
        if self.executions <= failures:
            raise Flaky(f"{tag} failure {self.executions}")


@discard_on(Gone)
class GoneJob(Job):
    """Runs once and is discarded."""

    def perform(self, tag: str) -> None:
        write(f"{tag} gone")
        raise Gone(tag)


class NoopJob(Job):
    """Does nothing: for the benchmark."""

    def perform(self) -> None:
        pass

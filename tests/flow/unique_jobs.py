"""Unique jobs the flow tests run, in the test process and in worker processes
(``--import tests.flow.unique_jobs``). Jobs that run in workers append lines
(``label:started pid``, ``label:done pid``) to a log file the test reads, and wait
for a release file with a deadline."""

from __future__ import annotations

import os
from pathlib import Path

from activejob import Job, unique
from tests.support import wait_for


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(f"{text}\n")


def _held(log: Path, label: str, release: Path) -> None:
    append(log, f"{label}:started {os.getpid()}")
    wait_for(release.exists, timeout=60)
    append(log, f"{label}:done {os.getpid()}")


@unique(key="one", until="finished")
class UntilFinished(Job):
    """One at a time, from enqueue to the end of its run."""

    def perform(self, log: Path, label: str, release: Path) -> None:
        _held(log, label, release)


@unique(key="one", until="started")
class UntilStarted(Job):
    """One waiting at a time; any number running."""

    def perform(self, log: Path, label: str, release: Path) -> None:
        _held(log, label, release)


def started(log: Path, label: str) -> bool:
    """Whether ``label`` has begun a run (any run)."""
    return log.exists() and any(
        line.startswith(f"{label}:started ") for line in log.read_text().splitlines()
    )


def runs(log: Path, label: str) -> list[str]:
    """The pids of ``label``'s started runs, in order."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[1] for line in lines if line.startswith(f"{label}:started ")]

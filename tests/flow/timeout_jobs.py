"""Jobs of the timeout and cancel tests, run in worker processes
(``--import tests.flow.timeout_jobs``) and in this one.

Each appends ``label event pid`` lines to a ledger file the test reads. Jobs that
wait do so on a file with a deadline, never forever.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import activejob
from activejob import Job

PATIENCE = 60.0
"""The longest any of these jobs waits for its release file."""


def note(ledger: str, label: str, event: str) -> None:
    """Append one ``label event pid`` line (one write, so lines never interleave)."""
    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{label} {event} {os.getpid()}\n".encode())
    finally:
        os.close(fd)


def events(ledger: str | Path, label: str) -> list[str]:
    """The events ``label`` noted, in order."""
    path = Path(ledger)
    if not path.exists():
        return []
    return [line.split()[1] for line in path.read_text().splitlines() if line.split()[0] == label]


def pid_of(ledger: str | Path, label: str) -> int:
    """The pid of the process that noted ``label``'s first event."""
    for line in Path(ledger).read_text().splitlines():
        name, _, pid = line.split()
        if name == label:
            return int(pid)
    raise AssertionError(f"{label} never ran")


class AsyncSleeper(Job):
    """An ``async def`` job far slower than its timeout: its task is cancelled."""

    timeout = 0.5

    async def perform(self, ledger: str, label: str) -> None:
        note(ledger, label, "start")
        await asyncio.sleep(PATIENCE)  # sleep-ok: the body the timeout cancels
        note(ledger, label, "end")


class CheckingLoop(Job):
    """A sync job that calls ``checkpoint()`` as it works: JobTimeout there."""

    timeout = 0.5

    def perform(self, ledger: str, label: str) -> None:
        note(ledger, label, "start")
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            self.checkpoint()
            time.sleep(0.01)  # sleep-ok: the job's own work, between checkpoints
        note(ledger, label, "end")


@activejob.retry_on(activejob.JobTimeout, wait=0.1, attempts=3, jitter=0)
class RetriedTimeout(Job):
    """Times out on its first run, is retried by its rule, then finishes in time."""

    timeout = 0.5

    async def perform(self, ledger: str, label: str) -> None:
        note(ledger, label, f"run{self.executions}")
        if self.executions == 1:
            await asyncio.sleep(PATIENCE)  # sleep-ok: the body the timeout cancels
        note(ledger, label, "end")


def _hold(ledger: str, label: str, release: str, job: Job | None) -> None:
    """Wait for ``release`` to exist; with ``job``, at its checkpoints."""
    note(ledger, label, "start")
    deadline = time.monotonic() + PATIENCE
    while not os.path.exists(release) and time.monotonic() < deadline:
        if job is not None:
            job.checkpoint()
        time.sleep(0.01)  # sleep-ok: the job's own work, between checkpoints
    note(ledger, label, "end")


class NeverChecks(Job):
    """A sync job past its timeout that never calls ``checkpoint()``: its thread
    cannot be stopped."""

    timeout = 0.5

    def perform(self, ledger: str, label: str, release: str) -> None:
        _hold(ledger, label, release, None)


class Hold(Job):
    """Runs until ``release`` exists, never checking (no timeout)."""

    def perform(self, ledger: str, label: str, release: str) -> None:
        _hold(ledger, label, release, None)


class CheckedHold(Job):
    """Runs until ``release`` exists, calling ``checkpoint()`` as it waits."""

    def perform(self, ledger: str, label: str, release: str) -> None:
        _hold(ledger, label, release, self)


class AsyncHold(Job):
    """An ``async def`` job that runs until ``release`` exists."""

    async def perform(self, ledger: str, label: str, release: str) -> None:
        note(ledger, label, "start")
        deadline = time.monotonic() + PATIENCE
        while not os.path.exists(release) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # sleep-ok: the job polls its release file, with a deadline
        note(ledger, label, "end")


class Work(Job):
    """Ordinary work of ``seconds`` (no timeout), noted when done."""

    def perform(self, ledger: str, label: str, seconds: float = 0.0) -> None:
        note(ledger, label, "start")
        time.sleep(seconds)  # sleep-ok: the job's own work
        note(ledger, label, "done")
